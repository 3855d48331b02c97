"""The batch processor with a stub DynamoDB: what is counted and logged when things go badly.

The stub answers the batch's read with one public item per ``itemId`` and lets each test decide what
its transactions do; the Lambda context runs on the wall clock with a small budget (the processor is
built with a small margin, so the tests take about a second).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from botocore.exceptions import ClientError

from local_runtime.lambda_service.capture import Captured, captured_telemetry
from services.activity_service import ActivityService
from services.backoff import FullJitterBackoff
from services.batch_processor import NO_TIME_TO_WRITE_LOG, ShareBatchProcessor
from services.batch_report import QUIET_LOG, TRACEBACKS_PER_BATCH, BatchReport
from services.deadline import COUNT_MS_PER_RECORD, QUIET_FLOOR_MS, Deadline
from services.dynamodb_service import TransactionCancelled
from services.errors import RetryableProcessingError, UnexpectedError
from services.lambda_context import LocalLambdaContext
from services.outcomes import APPLIED
from services.record_handler import ShareRecordHandler
from services.share_service import ShareService
from services.telemetry import metrics
from tests.factories import WallClockContext, failed_ids, fifo_record, share_body, sqs_event, sqs_record

MARGIN_MS = 600
Transaction = Callable[[list[dict[str, Any]]], None]


class StubDynamoDB:
    table_name = "t"

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self.attempts = 0

    def batch_get(self, keys: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        items = [key for key in keys if key["PK"].startswith("ITEM#")]
        return {(key["PK"], key["SK"]): {**key, "IsPublic": True, "Name": "n"} for key in items}

    def transact_write(self, actions: list[dict[str, Any]]) -> None:
        self.attempts += 1
        self.transaction(actions)


def run(dynamodb: StubDynamoDB, event: dict[str, Any], context: Any) -> tuple[dict[str, Any], Captured]:
    share_service = ShareService(dynamodb, ActivityService(dynamodb))  # type: ignore[arg-type]
    processor = ShareBatchProcessor(
        share_service, ShareRecordHandler(), max_parallel=10, deadline_margin_ms=MARGIN_MS
    )
    with captured_telemetry() as captured:
        response = process_partial_response(
            event=event, record_handler=processor.record_handler.parse, processor=processor, context=context
        )
        metrics.flush_metrics()
    return dict(response), captured


def conflicted(actions: list[dict[str, Any]]) -> TransactionCancelled:
    return TransactionCancelled([{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(actions) - 1))


def test_retries_are_counted_even_when_the_last_try_never_answers() -> None:
    hang = threading.Event()

    def three_conflicts_then_silence(actions: list[dict[str, Any]]) -> None:
        if dynamodb.attempts <= 3:
            raise conflicted(actions)
        hang.wait(10)

    dynamodb = StubDynamoDB(three_conflicts_then_silence)
    batch = sqs_event(
        *(sqs_record(share_body("hot", event_id=f"e-{index}"), f"m-{index}") for index in range(3))
    )

    try:
        response, captured = run(dynamodb, batch, WallClockContext(budget_s=1.5))
    finally:
        hang.set()

    assert failed_ids(response) == ["m-0", "m-1", "m-2"]
    assert dynamodb.attempts == 4
    assert captured.metrics["TransactionRetries"] == 3


def test_a_bug_in_one_item_s_transaction_fails_its_shares_only_and_the_lane_goes_on() -> None:
    def broken_for_item_a(actions: list[dict[str, Any]]) -> None:
        if actions[0]["Update"]["Key"]["PK"] == "ITEM#a" and dynamodb.attempts == 1:
            raise KeyError("a bug")

    dynamodb = StubDynamoDB(broken_for_item_a)
    batch = sqs_event(
        sqs_record(share_body("a", event_id="e-a1"), "a1"),
        sqs_record(share_body("b", event_id="e-b1"), "b1"),
    )

    response, captured = run(dynamodb, batch, WallClockContext(budget_s=10))

    assert failed_ids(response) == ["a1"]
    assert captured.metrics["ProcessingErrors"] == 1 and captured.metrics["ShareEventsProcessed"] == 1
    [failure] = [line for line in captured.logs if line.get("message_id") == "a1"]
    assert "unexpected error: KeyError" in failure["message"] and "Traceback" in failure["exception"]
    assert failure["error_code"] == "UnexpectedError"


def test_a_failed_record_s_log_line_names_dynamodb_s_error_code() -> None:
    def table_gone(actions: list[dict[str, Any]]) -> None:
        error = ClientError(
            {"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "TransactWriteItems"
        )
        raise RetryableProcessingError("TransactWriteItems failed: ResourceNotFoundException: no") from error

    response, captured = run(StubDynamoDB(table_gone), sqs_event(sqs_record(share_body("a"), "m-1")), None)

    assert failed_ids(response) == ["m-1"]
    [failure] = [line for line in captured.logs if line.get("message_id") == "m-1"]
    assert failure["error_code"] == "ResourceNotFoundException" and "exception" not in failure


def test_records_reported_with_too_little_time_left_are_counted_and_summed_up_in_one_line() -> None:
    """The report goes quiet once the time left nears what counting the rest takes."""
    records = 400
    context = WallClockContext(budget_s=(QUIET_FLOOR_MS + COUNT_MS_PER_RECORD * records) / 1000 - 0.01)
    report = BatchReport(Deadline(context, MARGIN_MS, records=records), records)
    results = [APPLIED] * (records - 1) + [RetryableProcessingError("TransactWriteItems failed")]

    with captured_telemetry() as captured:
        decisions = [report.next_record(result) for result in results]
        for position, (logged, _) in enumerate(decisions):
            if not logged:
                report.not_logged(f"m-{position}", failed=position == records - 1)
        report.summarise()

    assert decisions == [(False, False)] * records
    [summary] = captured.logs
    assert summary["message"] == QUIET_LOG
    assert (summary["not_logged"], summary["first_failed_message_ids"]) == (records, [f"m-{records - 1}"])


def test_tracebacks_are_kept_for_the_first_unexpected_errors_of_a_batch() -> None:
    report = BatchReport(Deadline(WallClockContext(budget_s=60), MARGIN_MS, records=10), 10)
    unexpected = UnexpectedError("unexpected error: KeyError: 'x'")
    dynamodb_said_no = RetryableProcessingError("TransactWriteItems failed: ThrottlingException")

    tracebacks = [report.next_record(result)[1] for result in [dynamodb_said_no] * 2 + [unexpected] * 8]

    assert tracebacks == [False, False] + [True] * TRACEBACKS_PER_BATCH + [False] * (8 - TRACEBACKS_PER_BATCH)


def test_a_batch_too_big_for_the_invocation_s_time_says_so_in_an_error() -> None:
    dynamodb = StubDynamoDB(lambda actions: None)
    batch = sqs_event(*(sqs_record(share_body(f"item-{index}"), f"m-{index}") for index in range(10)))

    response, captured = run(dynamodb, batch, WallClockContext(budget_s=MARGIN_MS / 1000 / 2))

    assert len(failed_ids(response)) == 10 and dynamodb.attempts == 0
    [error] = [line for line in captured.logs if line["message"] == NO_TIME_TO_WRITE_LOG]
    assert error["level"] == "ERROR" and error["batch_size"] == 10
    assert json.dumps(error)  # one plain JSON line


def test_without_a_lambda_context_contention_retries_stop_at_the_backoff_s_bound() -> None:
    """``lambda_handler(event, None)`` has a stand-in context whose time never runs down: no budget
    to end the retries, so their count does."""

    def always_conflicting(actions: list[dict[str, Any]]) -> None:
        raise conflicted(actions)

    dynamodb = StubDynamoDB(always_conflicting)
    backoff = FullJitterBackoff(base_s=0.0001, cap_s=0.0001)
    share_service = ShareService(dynamodb, ActivityService(dynamodb), backoff=backoff)  # type: ignore[arg-type]
    processor = ShareBatchProcessor(
        share_service, ShareRecordHandler(), max_parallel=10, deadline_margin_ms=MARGIN_MS
    )
    event = sqs_event(sqs_record(share_body("hot", event_id="e-1"), "m-1"))

    for context in (None, LocalLambdaContext()):
        dynamodb.attempts = 0
        response = process_partial_response(
            event=event,
            record_handler=processor.record_handler.parse,
            processor=processor,
            context=context,  # type: ignore[arg-type]  # duck-typed like a LambdaContext
        )
        assert failed_ids(dict(response)) == ["m-1"]
        assert dynamodb.attempts == backoff.max_retries + 1


def test_on_a_fifo_queue_a_group_waiting_for_an_item_does_not_keep_another_group_from_starting() -> None:
    hang = threading.Event()

    def first_share_of_x_hangs(actions: list[dict[str, Any]]) -> None:
        if actions[0]["Update"]["Key"]["PK"] == "ITEM#x" and dynamodb.attempts == 1:
            hang.wait(10)

    dynamodb = StubDynamoDB(first_share_of_x_hangs)
    share_service = ShareService(dynamodb, ActivityService(dynamodb))  # type: ignore[arg-type]
    processor = ShareBatchProcessor(
        share_service, ShareRecordHandler(), max_parallel=2, deadline_margin_ms=MARGIN_MS
    )
    event = sqs_event(
        fifo_record(share_body("x", event_id="e-1"), "g1-x", "g1", 0),
        fifo_record(share_body("x", event_id="e-2"), "g2-x", "g2", 1),
        fifo_record(share_body("y", event_id="e-3"), "g3-y", "g3", 2),
    )

    try:
        response = process_partial_response(
            event=event,
            record_handler=processor.record_handler.parse,
            processor=processor,
            context=WallClockContext(budget_s=2.5),  # type: ignore[arg-type]  # duck-typed like a LambdaContext
        )
    finally:
        hang.set()

    assert failed_ids(dict(response)) == ["g1-x", "g2-x"]  # x stayed busy; y went on
