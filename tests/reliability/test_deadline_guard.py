"""Scenario 5: when the invocation is about to time out, records not yet started are left untouched.

The Lambda context's clock here is driven by the work done, not by the wall clock: every DynamoDB
request the server answers uses up ``MS_PER_REQUEST`` of the invocation, so the point where the
remaining time drops below ``DEADLINE_MARGIN_MS`` is exact and repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.lambda_service.capture import captured_telemetry
from services.config import DEFAULT_DEADLINE_MARGIN_MS
from services.lambda_context import LocalLambdaContext
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record

pytestmark = pytest.mark.integration

MS_PER_REQUEST = 2000
GUARD_LOG = "Too little invocation time left: record left for SQS to retry"


@dataclass
class ContextTimedByRequests(LocalLambdaContext):
    """A Lambda context whose remaining time shrinks with each DynamoDB request the server answers."""

    server: EmbeddedAws | None = None
    budget_ms: int = 0
    counts_down: ClassVar[bool] = True
    requests_at_start: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        assert self.server is not None
        self.requests_at_start = self.server.dynamodb_requests

    def get_remaining_time_in_millis(self) -> int:
        assert self.server is not None
        return self.budget_ms - MS_PER_REQUEST * (self.server.dynamodb_requests - self.requests_at_start)


def test_records_not_started_before_the_margin_are_failed_untouched_and_logged(
    aws: EmbeddedAws, share_table: ShareTable, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Six items, one lane at a time: one transaction each, in queue order.
    monkeypatch.setenv("MAX_PARALLEL_RECORDS", "1")
    handler_module.worker.cache_clear()
    items = [f"item-{index}" for index in range(1, 7)]
    for item_id in items:
        share_table.put_item(item_id)
    records = [
        sqs_record(share_body(item_id, event_id=f"e-{item_id[5:]}"), f"m-{item_id[5:]}") for item_id in items
    ]
    # One BatchGetItem and two transactions fit before less than the margin is left.
    context = ContextTimedByRequests(
        server=aws, budget_ms=DEFAULT_DEADLINE_MARGIN_MS + 3 * MS_PER_REQUEST - 1
    )

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(sqs_event(*records), context)

    assert failed_ids(response) == ["m-3", "m-4", "m-5", "m-6"]
    assert [_count(share_table, item_id) for item_id in items] == [1, 1, 0, 0, 0, 0]
    assert {marker["EventId"] for marker in share_table.records_with_prefix("EVENT#")} == {"e-1", "e-2"}
    assert {entry["EventId"] for entry in share_table.records_with_prefix("USER#")} == {"e-1", "e-2"}
    guarded = [line for line in captured.logs if line["message"] == GUARD_LOG]
    assert [line["message_id"] for line in guarded] == ["m-3", "m-4", "m-5", "m-6"]
    assert all(
        line["level"] == "WARNING" and line["remaining_ms"] < DEFAULT_DEADLINE_MARGIN_MS for line in guarded
    )
    assert captured.metrics["FailedRecords"] == 4 and captured.metrics["ProcessingErrors"] == 0

    redelivered = handler_module.lambda_handler(sqs_event(*records[2:]), None)

    assert failed_ids(redelivered) == []
    assert [_count(share_table, item_id) for item_id in items] == [1] * 6
    assert len(share_table.records_with_prefix("USER#")) == 6


def _count(share_table: ShareTable, item_id: str) -> Decimal:
    item = share_table.item(item_id)
    assert item is not None
    return Decimal(item["SharedCount"])


def test_with_parallel_items_every_record_is_either_applied_whole_or_failed_untouched(
    aws: EmbeddedAws, share_table: ShareTable, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two lanes at a time, so some items' transactions start before the margin is reached, some after.
    monkeypatch.setenv("MAX_PARALLEL_RECORDS", "2")
    handler_module.worker.cache_clear()
    items = [f"item-{index}" for index in range(5)]
    for item_id in items:
        share_table.put_item(item_id)
    records = [
        sqs_record(share_body(items[index % 5], event_id=f"e-{index}"), f"m-{index}") for index in range(10)
    ]
    context = ContextTimedByRequests(
        server=aws, budget_ms=DEFAULT_DEADLINE_MARGIN_MS + 4 * MS_PER_REQUEST - 1
    )

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(sqs_event(*records), context)

    failed = set(failed_ids(response))
    applied = {
        f"m-{marker['EventId'].removeprefix('e-')}" for marker in share_table.records_with_prefix("EVENT#")
    }
    assert failed and applied
    assert failed | applied == {record["messageId"] for record in records} and not failed & applied
    assert {line["message_id"] for line in captured.logs if line["message"] == GUARD_LOG} == failed
    counts = {item_id: share_table.item(item_id)["SharedCount"] for item_id in items}  # type: ignore[index]
    assert sum(counts.values()) == len(applied) == len(share_table.records_with_prefix("USER#"))
