"""Scenario 2 and the TransactionConflict half of scenario 4: faults between the worker and DynamoDB.

The worker talks to the moto server through :class:`local_runtime.faults.FaultProxy`, which
throttles, fails, resets, slows down, loses the answer of committed transactions and cancels
transactions with ``TransactionConflict``. Whatever it does, every event is applied exactly once.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from local_runtime.capture import captured_telemetry
from local_runtime.faults import BATCH_GET, TRANSACT_WRITE, FaultKind, FaultPlan, FaultProxy
from local_runtime.reliability import ShareScenario, run_share_scenario
from services.bootstrap import RETRY_CONFIG, build_worker
from services.config import Settings
from services.dynamodb_service import UNPROCESSED_KEYS_ATTEMPTS
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record

pytestmark = pytest.mark.integration

FAULTS = ShareScenario(
    "faults",
    events=120,
    items=4,
    max_copies=2,
    fault_plan=FaultPlan.every_kind(0.35, slow_response_s=0.02, seed=2),
    seed=2,
)


SDK_CONFIG: Any = RETRY_CONFIG
"""``botocore.config.Config`` sets its options as attributes the type stubs do not declare."""
SDK_MAX_ATTEMPTS: int = SDK_CONFIG.retries["total_max_attempts"]


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

    result = run_share_scenario(
        FAULTS,
        table=share_table.table,
        invoke=partial(handler_behind_proxy.lambda_handler, context=None),
        faults=proxy.stats,
    )

    audit, queue = result.audit, result.queue
    assert set(result.faults.injected) == set(FaultKind)
    assert result.faults.lost_commits > 0
    assert queue.redeliveries > 0 and queue.metrics["ProcessingErrors"] > 0
    assert audit.found_counts == audit.expected_counts
    assert set(audit.markers) == set(audit.activities) == audit.event_ids
    assert set(audit.markers.values()) == set(audit.activities.values()) == {1}
    assert (audit.lost, audit.double_applied, audit.half_written) == (0, 0, 0)
    assert (queue.crashes, queue.dead_letters) == (0, [])


def test_sdk_retries_are_standard_mode_with_bounded_attempts_and_timeouts(share_table: ShareTable) -> None:
    worker = build_worker(Settings(table_name=share_table.name))
    config: Any = worker.share_service.dynamodb_service.table.meta.client.meta.config

    assert config.retries == SDK_CONFIG.retries
    assert config.retries["mode"] in ("standard", "adaptive")
    assert 2 <= config.retries["total_max_attempts"] <= 5
    assert config.connect_timeout == SDK_CONFIG.connect_timeout <= 5
    assert config.read_timeout == SDK_CONFIG.read_timeout <= 10


@pytest.mark.parametrize("kind", [FaultKind.THROTTLING, FaultKind.SERVER_ERROR, FaultKind.CONNECTION_RESET])
def test_transient_failures_are_retried_by_the_sdk_within_one_delivery(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy, kind: FaultKind
) -> None:
    share_table.put_item("test-item")
    proxy.inject(kind, times=2, operation=TRANSACT_WRITE)

    response = handler_behind_proxy.lambda_handler(sqs_event(sqs_record(share_body(), "m-1")), None)

    assert failed_ids(response) == []
    assert proxy.stats.requests[TRANSACT_WRITE] == 3
    assert _share_state(share_table) == (1, 1, 1)


def test_fault_on_every_attempt_fails_the_record_untouched_and_redelivery_applies_it(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("test-item")
    proxy.inject(FaultKind.SERVER_ERROR, times=SDK_MAX_ATTEMPTS, operation=TRANSACT_WRITE)
    record = sqs_record(share_body(event_id="test-event"), "m-1")

    first = handler_behind_proxy.lambda_handler(sqs_event(record), None)
    state_after_first = _share_state(share_table)
    second = handler_behind_proxy.lambda_handler(sqs_event(record), None)

    assert failed_ids(first) == ["m-1"] and state_after_first == (0, 0, 0)
    assert failed_ids(second) == [] and _share_state(share_table) == (1, 1, 1)
    assert proxy.stats.requests[TRANSACT_WRITE] == SDK_MAX_ATTEMPTS + 1


@pytest.mark.parametrize("kind", [FaultKind.ERROR_AFTER_COMMIT, FaultKind.RESET_AFTER_COMMIT])
def test_answer_lost_after_commit_is_settled_as_a_duplicate_by_the_sdk_retry(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy, kind: FaultKind
) -> None:
    share_table.put_item("test-item")
    proxy.inject(kind, times=1, operation=TRANSACT_WRITE)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(sqs_event(sqs_record(share_body(), "m-1")), None)

    assert failed_ids(response) == []
    assert proxy.stats.lost_commits == 1
    assert _share_state(share_table) == (1, 1, 1)
    assert captured.metrics["DuplicateEvents"] == 1 and captured.metrics["ShareEventsProcessed"] == 0


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


def test_transaction_conflict_is_retried_by_redelivery_not_taken_for_a_duplicate_or_missing_item(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("test-item")
    proxy.inject(FaultKind.TRANSACTION_CONFLICT, times=1, operation=TRANSACT_WRITE)
    record = sqs_record(share_body(event_id="test-event"), "m-1")

    with captured_telemetry() as conflicted:
        first = handler_behind_proxy.lambda_handler(sqs_event(record), None)
    state_after_first = _share_state(share_table)
    with captured_telemetry() as redelivered:
        second = handler_behind_proxy.lambda_handler(sqs_event(record), None)

    assert failed_ids(first) == ["m-1"] and state_after_first == (0, 0, 0)
    assert conflicted.metrics["ProcessingErrors"] == 1
    assert conflicted.metrics["DuplicateEvents"] == conflicted.metrics["ItemNotFound"] == 0
    [error] = [line for line in conflicted.logs if line["level"] == "ERROR"]
    assert "TransactionConflict" in error["message"] and error["message_id"] == "m-1"
    assert failed_ids(second) == [] and _share_state(share_table) == (1, 1, 1)
    assert redelivered.metrics["ShareEventsProcessed"] == 1
    assert proxy.stats.requests[TRANSACT_WRITE] == 2


def test_keys_left_unprocessed_by_batch_get_are_read_again_before_anything_is_decided(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("test-item")
    proxy.inject(FaultKind.UNPROCESSED_KEYS, times=2, operation=BATCH_GET)
    records = [sqs_record(share_body(event_id=f"e-{index}"), f"m-{index}") for index in range(3)]

    response = handler_behind_proxy.lambda_handler(sqs_event(*records), None)

    assert failed_ids(response) == []
    assert proxy.stats.requests[BATCH_GET] == 3
    assert _share_state(share_table) == (3, 3, 3)


def test_item_still_unread_after_every_attempt_fails_the_batch_for_retry_not_as_a_missing_item(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("test-item")
    proxy.inject(FaultKind.UNPROCESSED_KEYS, times=UNPROCESSED_KEYS_ATTEMPTS, operation=BATCH_GET)
    records = [sqs_record(share_body(event_id=f"e-{index}"), f"m-{index}") for index in range(2)]

    with captured_telemetry() as captured:
        first = handler_behind_proxy.lambda_handler(sqs_event(*records), None)
    state_after_first = _share_state(share_table)
    second = handler_behind_proxy.lambda_handler(sqs_event(*records), None)

    assert failed_ids(first) == ["m-0", "m-1"] and state_after_first == (0, 0, 0)
    assert captured.metrics["ItemNotFound"] == 0 and captured.metrics["ProcessingErrors"] == 2
    assert failed_ids(second) == [] and _share_state(share_table) == (2, 2, 2)
