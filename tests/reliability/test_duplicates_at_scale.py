"""Scenario 1: many events over a few items, each delivered 1 to 4 times in shuffled batches.

``make reliability`` runs the same scenario with thousands of events.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from moto.core.model_instances import model_data

from testkit.reliability import (
    DeliverySettings,
    RedeliveringQueue,
    audit_table,
    duplicates_scenario,
    run_share_scenario,
    seed_workload,
    share_workload,
)
from tests.conftest import ShareTable
from tests.factories import share_body, sqs_event, sqs_record
from tests.reliability.expectations import assert_every_event_applied_exactly_once

pytestmark = pytest.mark.integration

DUPLICATES = duplicates_scenario(240, seed=1)
TEMPLATE = DeliverySettings.from_stack()


def test_every_distinct_event_is_counted_once_however_often_it_is_delivered(
    share_table: ShareTable, handler_module: Any
) -> None:
    result = run_share_scenario(DUPLICATES, table=share_table.table, invoke=handler_module.lambda_handler)

    queue = result.queue
    assert queue.messages > DUPLICATES.events * 2 and queue.redeliveries == 0
    assert_every_event_applied_exactly_once(result)
    assert queue.metrics["ShareEventsProcessed"] == DUPLICATES.events
    assert queue.metrics["DuplicateEvents"] == queue.messages - DUPLICATES.events


def test_audit_notices_a_share_counted_twice_an_event_half_written_and_one_without_records(
    share_table: ShareTable, handler_module: Any
) -> None:
    """The audit behind every scenario fails when the promise breaks, not only when it holds."""
    workload = share_workload(random.Random(3), events=3, items=1)
    seed_workload(share_table.table, workload)
    queue = RedeliveringQueue(random.Random(3))
    for share in workload.shares:
        queue.send(share.body())
    queue.drain(handler_module.lambda_handler)
    [item_id] = workload.owners
    share_table.table.update_item(
        Key={"PK": f"ITEM#{item_id}", "SK": "METADATA"},
        UpdateExpression="ADD SharedCount :one",
        ExpressionAttributeValues={":one": 1},
    )
    share_table.table.delete_item(Key={"PK": f"EVENT#{workload.shares[0].event_id}", "SK": "EVENT"})
    counted_without_records = workload.shares[1].event_id
    share_table.table.delete_item(Key={"PK": f"EVENT#{counted_without_records}", "SK": "EVENT"})
    [entry] = [
        entry
        for entry in share_table.records_with_prefix("USER#")
        if entry["EventId"] == counted_without_records
    ]
    share_table.table.delete_item(Key={"PK": entry["PK"], "SK": entry["SK"]})

    audit = audit_table(share_table.table, workload)

    assert (audit.lost, audit.double_applied, audit.unapplied, audit.half_written) == (0, 1, 1, 1)
    assert not audit.exact


def test_queue_brings_failed_records_back_until_they_succeed_at_their_last_receive() -> None:
    receives = TEMPLATE.max_receive_count
    attempts: dict[str, int] = {}
    batch_sizes: list[int] = []

    def fails_all_but_the_last_receive(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batch_sizes.append(len(event["Records"]))
        failures = []
        for record in event["Records"]:
            attempts[record["body"]] = attempts.get(record["body"], 0) + 1
            assert record["attributes"]["ApproximateReceiveCount"] == str(attempts[record["body"]])
            if attempts[record["body"]] < receives:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    queue = RedeliveringQueue(random.Random(4))
    for index in range(25):
        queue.send(f"body-{index}")

    stats = queue.drain(fails_all_but_the_last_receive)

    assert attempts == {f"body-{index}": receives for index in range(25)}
    assert (stats.messages, stats.deliveries, stats.failed_deliveries, stats.dead_letters) == (
        25,
        25 * receives,
        25 * (receives - 1),
        [],
    )
    assert max(batch_sizes) <= TEMPLATE.batch_size and sum(batch_sizes) == 25 * receives


def test_queue_dead_letters_after_the_templates_receive_count_and_redelivers_a_crashed_batch() -> None:
    def always_raises(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("the invocation crashed")

    queue = RedeliveringQueue(random.Random(5))
    queue.send("poison")

    stats = queue.drain(always_raises)

    receives = TEMPLATE.max_receive_count
    assert (stats.deliveries, stats.crashes, stats.dead_letters) == (receives, receives, ["poison"])


def test_invocation_gets_the_templates_function_timeout_and_one_that_overruns_it_is_retried_whole() -> None:
    remaining_ms: list[int] = []

    def overruns_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
        remaining_ms.append(context.get_remaining_time_in_millis())
        if len(remaining_ms) == 1:
            context.deadline_ms = 0  # the clock ran out while the records were processed
        return {"batchItemFailures": []}

    queue = RedeliveringQueue(random.Random(6))
    queue.send("slow")

    stats = queue.drain(overruns_once)

    assert 0 < remaining_ms[0] <= TEMPLATE.function_timeout_s * 1000
    assert (stats.deliveries, stats.crashes, stats.redeliveries, stats.dead_letters) == (2, 1, 1, [])


def test_embedded_server_does_not_keep_a_table_copy_per_transaction(
    share_table: ShareTable, handler_module: Any
) -> None:
    """moto tracks every model object for its dashboard, each transaction's whole-table copies too;
    the embedded server drops them, or a big run would need gigabytes."""
    share_table.put_item("test-item")
    for index in range(20):
        handler_module.lambda_handler(sqs_event(sqs_record(share_body(event_id=f"e-{index}"))), None)

    dynamodb_models: dict[str, Any] = model_data["dynamodb"]
    assert [model.instances_tracked for model in dynamodb_models.values()] == [[]] * len(dynamodb_models)
    item = share_table.item("test-item")
    assert item is not None and item["SharedCount"] == 20
