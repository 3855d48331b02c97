"""Contention is retried where it happens: in the invocation, while the time budget allows.

DynamoDB cancels a transaction with ``TransactionConflict`` when another one touches the same item
(a viral item, ten invocations at once) and refuses requests for throughput when the table is hot.
botocore never retries a cancelled transaction, so the worker does, with full-jitter backoff,
counted in ``TransactionRetries``; only when the budget runs out does the record go back to SQS.
The fault proxy in front of the moto server plays DynamoDB's part.
"""

from __future__ import annotations

from typing import Any

import pytest

from local_runtime.lambda_service.capture import captured_telemetry
from services.bootstrap import build_worker
from services.config import Settings
from testkit.client_hooks import before_send, operation_of
from testkit.faults import TRANSACT_WRITE, FaultKind, FaultPlan, FaultProxy
from tests.conftest import ShareTable
from tests.factories import WallClockContext, failed_ids, fifo_record, share_body, sqs_event, sqs_record
from tests.integration.batches import shared_count, worker_client

pytestmark = pytest.mark.integration

SDK_ATTEMPTS = 3


def _hot_batch(count: int) -> dict[str, Any]:
    return sqs_event(*(sqs_record(share_body("hot-item", event_id=f"e-{i}"), f"m-{i}") for i in range(count)))


def test_conflicts_are_retried_in_the_invocation_and_nothing_is_failed(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("hot-item")
    proxy.inject(FaultKind.TRANSACTION_CONFLICT, times=3, operation=TRANSACT_WRITE)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(_hot_batch(10), None)

    assert failed_ids(response) == []
    assert shared_count(share_table, "hot-item") == 10
    assert proxy.stats.requests[TRANSACT_WRITE] == 4
    assert captured.metrics["TransactionRetries"] == 3
    assert captured.metrics["ShareEventsProcessed"] == 10 and captured.metrics["ProcessingErrors"] == 0


def test_throttling_that_outlasts_the_sdk_retries_is_retried_by_the_worker(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("hot-item")
    proxy.inject(FaultKind.THROTTLING, times=SDK_ATTEMPTS, operation=TRANSACT_WRITE)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(_hot_batch(3), None)

    assert failed_ids(response) == []
    assert shared_count(share_table, "hot-item") == 3
    assert proxy.stats.requests[TRANSACT_WRITE] == SDK_ATTEMPTS + 1
    assert captured.metrics["TransactionRetries"] == 1


def test_conflicts_until_the_budget_runs_out_fail_the_records_untouched_and_redelivery_applies_them_once(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    share_table.put_item("hot-item")
    proxy.use_plan(FaultPlan({FaultKind.TRANSACTION_CONFLICT: 1.0}))
    # 3.5 s of retries before the 4.5 s margin: on a loaded machine the batch read and the first attempt
    # alone have taken 1.5 s, and then no retry was left to count.
    context = WallClockContext(budget_s=8.0)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(_hot_batch(4), context)

    assert context.get_remaining_time_in_millis() > 0  # answered before the deadline
    assert failed_ids(response) == ["m-0", "m-1", "m-2", "m-3"]
    assert shared_count(share_table, "hot-item") == 0 and share_table.records_with_prefix("EVENT#") == []
    assert captured.metrics["TransactionRetries"] >= 1 and captured.metrics["ProcessingErrors"] == 4
    errors = [line for line in captured.logs if line["level"] == "ERROR"]
    assert all(
        "TransactionConflict" in line["message"] and "no time left" in line["message"] for line in errors
    )

    proxy.use_plan(FaultPlan())
    redelivered = handler_behind_proxy.lambda_handler(_hot_batch(4), None)

    assert failed_ids(redelivered) == []
    assert shared_count(share_table, "hot-item") == 4


def test_on_a_fifo_queue_a_later_record_settled_meanwhile_is_still_reported_after_an_earlier_failure(
    share_table: ShareTable,
    handler_behind_proxy: Any,
    proxy: FaultProxy,
    aws: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another invocation applies the group's second share between the batch's read and its transaction;
    then the item stays contended until the budget runs out, so the first share fails. The second one,
    a duplicate by then, comes after a failure in its message group: it must be reported too."""
    share_table.put_item("hot-item")
    first, later = share_body("hot-item", event_id="e-first"), share_body("hot-item", event_id="e-later")
    batch = sqs_event(fifo_record(first, "g-1", "g", 0), fifo_record(later, "g-2", "g", 1))
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint_url)
    other = build_worker(Settings(table_name=share_table.name))  # straight to the server, no faults
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
    transactions: list[str] = []

    def meanwhile(event_name: str, **_: Any) -> None:
        if operation_of(event_name) != TRANSACT_WRITE:
            return
        transactions.append(event_name)
        if len(transactions) == 1:
            with other.processor(records=[sqs_record(later, "other")], handler=lambda _: None):
                other.processor.process()
            proxy.use_plan(FaultPlan({FaultKind.TRANSACTION_CONFLICT: 1.0}))

    with before_send(worker_client(handler_behind_proxy), meanwhile):
        response = handler_behind_proxy.lambda_handler(batch, WallClockContext(budget_s=6.0))

    assert failed_ids(response) == ["g-1", "g-2"]
    assert shared_count(share_table, "hot-item") == 1  # the other invocation's share, nothing of ours
