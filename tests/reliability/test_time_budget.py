"""The time budget holds whatever DynamoDB does: the handler answers SQS before the deadline.

Lambda discards the partial batch response of an invocation it kills at its timeout. Here the
worker's Lambda context runs down with the wall clock, and DynamoDB, behind the fault proxy, is
slow or never answers at all. Whatever happens, the handler returns before the context's time is
up, every record it could not finish is reported for retry, nothing is half-written, and the
redelivery applies each event exactly once. What is asserted is what happened; the only clock in an
assertion is "returned before the deadline", which has seconds to spare.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import process_partial_response
from botocore.config import Config

from local_runtime.lambda_service.capture import captured_telemetry
from services.batch_report import QUIET_LOG, TRACEBACKS_PER_BATCH
from services.bootstrap import build_worker
from services.config import DEFAULT_DEADLINE_MARGIN_MS, Settings
from testkit.faults import BATCH_GET, TRANSACT_WRITE, FaultKind, FaultPlan, FaultProxy
from tests.conftest import ShareTable
from tests.factories import WallClockContext, failed_ids, share_body, sqs_event, sqs_record
from tests.integration.batches import seed_owned_items

pytestmark = pytest.mark.integration

ITEMS = [f"item-{index}" for index in range(10)]
MESSAGE_IDS = [f"m-{index}" for index in range(10)]
HELD_FOREVER = 1000
"""Enough forced hangs for every request of a test (they are cleared before the redelivery)."""


def _batch() -> dict[str, Any]:
    return sqs_event(
        *(sqs_record(share_body(item_id, event_id=f"e-{item_id}"), f"m-{item_id[5:]}") for item_id in ITEMS)
    )


def _assert_nothing_written(share_table: ShareTable) -> None:
    assert share_table.records_with_prefix("EVENT#") == share_table.records_with_prefix("USER#") == []
    assert all(int(record.get("SharedCount", 0)) == 0 for record in share_table.records_with_prefix("ITEM#"))


def _assert_redelivery_applies_each_event_once(
    share_table: ShareTable, handler: Any, proxy: FaultProxy
) -> None:
    proxy.clear()
    proxy.use_plan(FaultPlan())
    response = handler.lambda_handler(_batch(), None)
    assert failed_ids(response) == []
    counts = {
        str(record["ItemId"]): int(record["SharedCount"])
        for record in share_table.records_with_prefix("ITEM#")
    }
    assert counts == dict.fromkeys(ITEMS, 1)
    assert (
        len(share_table.records_with_prefix("EVENT#")) == len(share_table.records_with_prefix("USER#")) == 10
    )


def test_a_slow_batch_read_with_too_little_time_left_starts_no_transaction(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    seed_owned_items(share_table, ITEMS)
    proxy.use_plan(FaultPlan(slow_response_s=6.0))
    proxy.inject(FaultKind.SLOW_RESPONSE, times=HELD_FOREVER, operation=BATCH_GET)
    context = WallClockContext(budget_s=8.0)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(_batch(), context)

    assert context.get_remaining_time_in_millis() > 0
    assert failed_ids(response) == MESSAGE_IDS
    assert proxy.stats.requests[TRANSACT_WRITE] == 0
    _assert_nothing_written(share_table)
    assert captured.metrics["FailedRecords"] == 10 and captured.metrics["ShareEventsProcessed"] == 0
    _assert_redelivery_applies_each_event_once(share_table, handler_behind_proxy, proxy)


@pytest.mark.parametrize("operation", [TRANSACT_WRITE, None], ids=["transactions-hang", "everything-hangs"])
def test_dynamodb_that_never_answers_cannot_make_the_handler_miss_its_deadline(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy, operation: str | None
) -> None:
    seed_owned_items(share_table, ITEMS)
    proxy.inject(FaultKind.HANG, times=HELD_FOREVER, operation=operation)
    context = WallClockContext(budget_s=12.0)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(_batch(), context)

    assert context.get_remaining_time_in_millis() > 0
    assert failed_ids(response) == MESSAGE_IDS
    _assert_nothing_written(share_table)
    assert captured.metrics["FailedRecords"] == 10
    _assert_redelivery_applies_each_event_once(share_table, handler_behind_proxy, proxy)


def test_an_invalid_record_is_a_validation_error_even_when_the_batch_read_never_answers(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    seed_owned_items(share_table, ITEMS)
    proxy.inject(FaultKind.HANG, times=HELD_FOREVER)
    batch = sqs_event(sqs_record("not json", "m-invalid"), sqs_record(share_body("item-0"), "m-valid"))

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(batch, WallClockContext(budget_s=5.0))

    assert failed_ids(response) == ["m-invalid", "m-valid"]
    assert captured.metrics["ValidationErrors"] == 1
    _assert_nothing_written(share_table)


def test_no_request_starts_with_less_than_the_margin_left(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    seed_owned_items(share_table, ITEMS)
    context = WallClockContext(budget_s=(DEFAULT_DEADLINE_MARGIN_MS - 100) / 1000)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(_batch(), context)

    assert failed_ids(response) == MESSAGE_IDS
    assert sum(proxy.stats.requests.values()) == 0
    guarded = [
        line for line in captured.logs if line["message"].startswith("Too little invocation time left")
    ]
    assert {line["message_id"] for line in guarded} == set(MESSAGE_IDS)


def test_a_transaction_that_commits_after_its_record_was_reported_is_a_duplicate_on_redelivery(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    seed_owned_items(share_table, ["item-0"])
    # The proxy holds the transaction 3.5 s, then relays it: the worker's 3 s read timeout expires
    # first, and by then less than the margin is left for the SDK's retry.
    proxy.use_plan(FaultPlan(slow_response_s=3.5))
    proxy.inject(FaultKind.SLOW_RESPONSE, times=1, operation=TRANSACT_WRITE)
    record = sqs_record(share_body("item-0", event_id="e-late"), "m-late")

    response = handler_behind_proxy.lambda_handler(sqs_event(record), WallClockContext(budget_s=5.5))

    assert failed_ids(response) == ["m-late"]
    _wait_for_marker(share_table, "e-late")
    with captured_telemetry() as captured:
        redelivered = handler_behind_proxy.lambda_handler(sqs_event(record), None)
    assert failed_ids(redelivered) == []
    assert captured.metrics["DuplicateEvents"] == 1 and captured.metrics["ShareEventsProcessed"] == 0
    item = share_table.item("item-0")
    assert item is not None and item["SharedCount"] == 1


def test_the_handler_answers_at_the_cutoff_even_when_a_request_outlives_the_sdk_timeouts(
    share_table: ShareTable, proxy: FaultProxy
) -> None:
    """The backstop: a client whose timeouts exceed the budget (not the worker's own settings) still
    cannot hold the answer back; records still running at the cutoff are reported for retry."""
    seed_owned_items(share_table, ITEMS)
    slow_client = boto3.resource(
        "dynamodb",
        endpoint_url=proxy.endpoint_url,
        config=Config(read_timeout=60, retries={"total_max_attempts": 1}),
    )
    worker = build_worker(Settings(table_name=share_table.name), resource=slow_client)
    proxy.inject(FaultKind.HANG, times=HELD_FOREVER, operation=TRANSACT_WRITE)
    context = WallClockContext(budget_s=6.0)

    with captured_telemetry() as captured:
        response = process_partial_response(
            event=_batch(),
            record_handler=worker.processor.record_handler.parse,
            processor=worker.processor,
            context=context,  # type: ignore[arg-type]  # duck-typed like a LambdaContext
        )

    assert context.get_remaining_time_in_millis() > 0
    assert failed_ids(dict(response)) == MESSAGE_IDS
    _assert_nothing_written(share_table)
    assert _named_as_unfinished(captured.logs) == set(MESSAGE_IDS)


def test_a_big_batch_of_failures_reported_at_the_cutoff_is_still_answered_before_the_deadline(
    share_table: ShareTable, handler_behind_proxy: Any, proxy: FaultProxy
) -> None:
    """300 records: one transaction never answers, every other one loses its connection on each SDK
    attempt. Reporting starts at the cutoff with every record failed; logging a deep botocore
    traceback per record once took longer than the reserve, and the answer came after the deadline."""
    items = [f"item-{index}" for index in range(300)]
    seed_owned_items(share_table, items)
    proxy.inject(FaultKind.HANG, times=1, operation=TRANSACT_WRITE)
    proxy.inject(FaultKind.CONNECTION_RESET, times=HELD_FOREVER * 3, operation=TRANSACT_WRITE)
    batch = sqs_event(*(sqs_record(share_body(item_id), f"m-{item_id}") for item_id in items))
    context = WallClockContext(budget_s=10.0)

    with captured_telemetry() as captured:
        response = handler_behind_proxy.lambda_handler(batch, context)

    assert context.get_remaining_time_in_millis() > 0
    assert len(failed_ids(response)) == 300
    _assert_nothing_written(share_table)
    assert captured.metrics["FailedRecords"] == 300
    assert sum(1 for line in captured.logs if "exception" in line) <= TRACEBACKS_PER_BATCH


def test_a_processor_called_without_a_context_has_no_deadline_left_over_from_an_earlier_call(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["item-0"])
    processor = handler_module.worker().processor
    expired = WallClockContext(budget_s=0)
    with processor(
        records=sqs_event(sqs_record(share_body("item-0"), "m-1"))["Records"],
        handler=print,
        lambda_context=expired,
    ):
        processor.process()

    with processor(records=sqs_event(sqs_record(share_body("item-0"), "m-2"))["Records"], handler=print):
        processor.process()

    assert processor.response() == {"batchItemFailures": []}
    assert int(share_table.item("item-0")["SharedCount"]) == 1  # type: ignore[index]


def _named_as_unfinished(logs: list[dict[str, Any]]) -> set[str]:
    """The records logged as not finished: each on a line of its own, or, when the report had to go
    quiet (a loaded machine can take a while to get from the cutoff to the report), in its summary."""
    own_lines = {line["message_id"] for line in logs if "not finished" in line.get("reason", "")}
    summaries = [line for line in logs if line["message"] == QUIET_LOG]
    return own_lines | {message_id for line in summaries for message_id in line["first_failed_message_ids"]}


def _wait_for_marker(share_table: ShareTable, event_id: str, polls: int = 100) -> None:
    """Poll until the late commit lands (the proxy relays it 3.5 s after it arrived)."""
    for _ in range(polls):
        if any(marker["EventId"] == event_id for marker in share_table.records_with_prefix("EVENT#")):
            return
        time.sleep(0.1)
    pytest.fail(f"the transaction of {event_id} never committed")
