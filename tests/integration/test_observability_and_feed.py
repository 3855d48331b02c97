"""Metrics, log fields and the activity feed, observed through a real invocation."""

from __future__ import annotations

from typing import Any

import pytest

from local_runtime.lambda_service.capture import captured_telemetry
from services.bootstrap import Worker
from tests.conftest import ShareTable
from tests.factories import share_body, sqs_event, sqs_record

pytestmark = pytest.mark.integration


def test_metrics_cover_every_outcome_and_the_batch(share_table: ShareTable, handler_module: Any) -> None:
    share_table.put_item("mine", owner="user123")
    share_table.put_item("theirs", owner="owner-2")
    batch = sqs_event(
        sqs_record(share_body("mine", event_id="e-1")),
        sqs_record(share_body("mine", event_id="e-1")),
        sqs_record(share_body("missing")),
        sqs_record(share_body("theirs")),
        sqs_record("{}"),
    )

    with captured_telemetry() as captured:
        handler_module.lambda_handler(batch, None)

    assert {name: value for name, value in captured.metrics.items() if name != "ColdStart"} == {
        "ShareEventsProcessed": 1,
        "DuplicateEvents": 1,
        "ItemNotFound": 1,
        "UnauthorizedShares": 1,
        "ValidationErrors": 1,
        "BatchSize": 5,
        "SuccessfulRecords": 4,
        "FailedRecords": 1,
        "TransactionRetries": 0,
    }


def test_processing_errors_are_counted(
    aws: Any, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    handler_module.worker.cache_clear()

    with captured_telemetry() as captured:
        handler_module.lambda_handler(sqs_event(sqs_record(share_body())), None)

    assert captured.metrics["ProcessingErrors"] == 1
    assert captured.metrics["FailedRecords"] == 1


def test_log_lines_carry_the_record_identifiers_and_lambda_context(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("test-item")

    with captured_telemetry() as captured:
        handler_module.lambda_handler(sqs_event(sqs_record(share_body(event_id="e-9"), "m-9")), None)

    [applied] = [line for line in captured.logs if line.get("outcome") == "APPLIED"]
    assert applied["message_id"] == "m-9"
    assert applied["event_id"] == "e-9"
    assert applied["item_id"] == "test-item"
    assert applied["user_id"] == "user123"
    assert applied["service"] == "ShareWorker"
    assert applied["function_request_id"]
    assert "cold_start" in applied


def test_invalid_record_log_names_the_message_and_the_rule(
    share_table: ShareTable, handler_module: Any
) -> None:
    with captured_telemetry() as captured:
        handler_module.lambda_handler(sqs_event(sqs_record(share_body("bad#id"), "m-bad")), None)

    [error] = [line for line in captured.logs if line.get("level") == "ERROR"]
    assert error["message_id"] == "m-bad"
    assert "itemId may only contain" in error["message"]


def test_feed_is_newest_first_and_paginates_with_a_cursor(share_table: ShareTable, worker: Worker) -> None:
    share_table.put_item("test-item")
    times = [f"2025-11-13T10:0{minute}:00Z" for minute in range(5)]
    batch = sqs_event(
        *(sqs_record(share_body(shared_at=moment, event_id=f"e-{i}")) for i, moment in enumerate(times))
    )
    with worker.processor(records=batch["Records"], handler=worker.processor.record_handler.parse):
        worker.processor.process()

    first = worker.activity_service.list_user_activity("user123", limit=3)
    second = worker.activity_service.list_user_activity("user123", limit=3, cursor=first.next_cursor)

    assert [entry["EventId"] for entry in first.entries] == ["e-4", "e-3", "e-2"]
    assert [entry["EventId"] for entry in second.entries] == ["e-1", "e-0"]
    assert second.next_cursor is None
