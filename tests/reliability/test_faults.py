"""Scenario 2: faults between the worker and DynamoDB.

The worker talks to the moto server through :class:`testkit.faults.FaultProxy`, which
throttles, fails, resets, slows down, loses the answer of committed transactions, cancels
transactions with ``TransactionConflict`` and leaves batch reads unprocessed. Whatever it does,
every event is applied exactly once.
"""

from __future__ import annotations

from typing import Any

import pytest

from local_runtime.lambda_service.capture import captured_telemetry
from services.bootstrap import RETRY_CONFIG, build_worker
from services.config import Settings
from services.dynamodb_service import UNPROCESSED_KEYS_ATTEMPTS
from testkit.faults import BATCH_GET, TRANSACT_WRITE, FaultKind, FaultProxy
from testkit.reliability import faults_scenario, run_share_scenario
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.reliability.expectations import assert_every_event_applied_exactly_once

pytestmark = pytest.mark.integration

FAULTS = faults_scenario(120, seed=2)
SDK_CONFIG: Any = RETRY_CONFIG
"""``botocore.config.Config`` sets its options as attributes the type stubs do not declare."""
SDK_MAX_ATTEMPTS: int = SDK_CONFIG.retries["total_max_attempts"]
ANSWERING_KINDS = [kind for kind in FaultKind if kind is not FaultKind.HANG]
"""Every fault the random plans draw (a hanging request is tested in ``test_time_budget.py``)."""


def _share_state(share_table: ShareTable) -> tuple[int, int, int]:
    """The test item's SharedCount, and how many dedup markers and feed entries exist."""
    item = share_table.item("test-item")
    assert item is not None
    return (
        int(item["SharedCount"]),
        len(share_table.records_with_prefix("EVENT#")),
        len(share_table.records_with_prefix("USER#")),
    )


def test_every_event_is_applied_exactly_once_through_every_kind_of_fault(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    assert FAULTS.fault_plan is not None
    proxy.use_plan(FAULTS.fault_plan)
    for kind in ANSWERING_KINDS:  # each kind at least once, whatever the draws; the plan adds the rest
        proxy.inject(kind, operation=BATCH_GET if kind is FaultKind.UNPROCESSED_KEYS else TRANSACT_WRITE)

    result = run_share_scenario(
        FAULTS,
        table=share_table.table,
        invoke=handler_behind_proxy.lambda_handler,
        faults=proxy.stats,
    )

    assert set(result.faults.injected) == set(ANSWERING_KINDS)
    assert result.faults.faults > len(ANSWERING_KINDS) and result.faults.lost_commits > 0
    assert result.queue.redeliveries > 0 and result.queue.metrics["ProcessingErrors"] > 0
    assert_every_event_applied_exactly_once(result)


def test_sdk_retries_are_standard_mode_with_bounded_attempts_and_timeouts(share_table: ShareTable) -> None:
    worker = build_worker(Settings(table_name=share_table.name))
    config: Any = worker.share_service.dynamodb_service.table.meta.client.meta.config

    assert config.retries == SDK_CONFIG.retries
    assert config.retries["mode"] in ("standard", "adaptive")
    assert 2 <= config.retries["total_max_attempts"] <= 5
    assert config.connect_timeout == SDK_CONFIG.connect_timeout <= 5
    assert config.read_timeout == SDK_CONFIG.read_timeout <= 10


@pytest.mark.parametrize(
    ("kind", "operation"),
    [
        (FaultKind.THROTTLING, TRANSACT_WRITE),
        (FaultKind.SERVER_ERROR, TRANSACT_WRITE),
        (FaultKind.CONNECTION_RESET, TRANSACT_WRITE),
        (FaultKind.UNPROCESSED_KEYS, BATCH_GET),
    ],
)
def test_transient_failures_are_retried_within_one_delivery(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy, kind: FaultKind, operation: str
) -> None:
    """By the SDK (standard retry mode), or for unprocessed keys by the worker's own read loop."""
    share_table.put_item("test-item")
    proxy.inject(kind, times=2, operation=operation)

    response = handler_behind_proxy.lambda_handler(sqs_event(sqs_record(share_body(), "m-1")), None)

    assert failed_ids(response) == []
    assert proxy.stats.requests[operation] == 3
    assert _share_state(share_table) == (1, 1, 1)


@pytest.mark.parametrize(
    ("kind", "operation", "attempts", "reason"),
    [
        (FaultKind.SERVER_ERROR, TRANSACT_WRITE, SDK_MAX_ATTEMPTS, "InternalServerError"),
        (FaultKind.UNPROCESSED_KEYS, BATCH_GET, UNPROCESSED_KEYS_ATTEMPTS, "unprocessed"),
    ],
)
def test_failure_of_every_attempt_fails_the_record_untouched_and_redelivery_applies_it_once(
    share_table: ShareTable,
    handler_behind_proxy: Any,
    proxy: FaultProxy,
    kind: FaultKind,
    operation: str,
    attempts: int,
    reason: str,
) -> None:
    """Never counted as a duplicate or a missing item: a server error on every attempt and an item
    left unread are retried by SQS like any transient failure (``TransactionConflict``, which the
    SDK does not retry, is retried by the worker itself: ``test_contention.py``)."""
    share_table.put_item("test-item")
    proxy.inject(kind, times=attempts, operation=operation)
    record = sqs_record(share_body(event_id="test-event"), "m-1")

    with captured_telemetry() as failed:
        first = handler_behind_proxy.lambda_handler(sqs_event(record), None)
    state_after_first = _share_state(share_table)
    with captured_telemetry() as redelivered:
        second = handler_behind_proxy.lambda_handler(sqs_event(record), None)

    assert failed_ids(first) == ["m-1"] and state_after_first == (0, 0, 0)
    assert failed.metrics["ProcessingErrors"] == 1
    assert failed.metrics["DuplicateEvents"] == failed.metrics["ItemNotFound"] == 0
    [error] = [line for line in failed.logs if line["level"] == "ERROR"]
    assert reason in error["message"] and error["message_id"] == "m-1"
    assert failed_ids(second) == [] and _share_state(share_table) == (1, 1, 1)
    assert redelivered.metrics["ShareEventsProcessed"] == 1
    assert proxy.stats.requests[operation] == attempts + 1


@pytest.mark.parametrize("kind", [FaultKind.ERROR_AFTER_COMMIT, FaultKind.RESET_AFTER_COMMIT])
def test_answer_lost_after_commit_is_settled_as_applied_by_the_sdk_retry(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy, kind: FaultKind
) -> None:
    """The SDK's retry carries the first attempt's ``ClientRequestToken``, so DynamoDB (and the embedded
    server, ``local_runtime/aws/client_tokens.py``) answers it with success and writes nothing again:
    the share is APPLIED, once. (moto alone ran the retry again, and its cancellation made it a
    DUPLICATE, which is not what happens in AWS.)"""
    share_table.put_item("test-item")
    proxy.inject(kind, times=1, operation=TRANSACT_WRITE)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(sqs_event(sqs_record(share_body(), "m-1")), None)

    assert failed_ids(response) == []
    assert proxy.stats.lost_commits == 1
    assert _share_state(share_table) == (1, 1, 1)
    assert captured.metrics["ShareEventsProcessed"] == 1 and captured.metrics["DuplicateEvents"] == 0
    assert proxy.stats.requests[TRANSACT_WRITE] == 2


def test_commit_whose_answer_never_arrives_is_not_applied_again_on_redelivery(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("test-item")
    proxy.inject(FaultKind.ERROR_AFTER_COMMIT, times=SDK_MAX_ATTEMPTS, operation=TRANSACT_WRITE)
    record = sqs_record(share_body(event_id="test-event"), "m-1")

    first = handler_behind_proxy.lambda_handler(sqs_event(record), None)
    state_after_first = _share_state(share_table)
    with captured_telemetry() as captured:
        second = handler_behind_proxy.lambda_handler(sqs_event(record), None)

    assert failed_ids(first) == ["m-1"] and state_after_first == (1, 1, 1)
    assert failed_ids(second) == [] and _share_state(share_table) == (1, 1, 1)
    assert captured.metrics["DuplicateEvents"] == 1
