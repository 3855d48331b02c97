"""Records of different items are written at the same time, the shares of one item in one transaction.

Each test watches the worker's own client from inside (a ``before-send`` hook), so what it asserts
is the order and overlap of real HTTP requests, never how long anything took.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from testkit.client_hooks import before_send, operation_of
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.integration.batches import batch_on, seed_owned_items, shared_count, worker_client

pytestmark = pytest.mark.integration

TRANSACTION = "TransactWriteItems"


def _transaction_event_ids(request: Any) -> list[str]:
    """The ``EventId`` of every dedup marker a share transaction writes, in the order of its actions."""
    actions = json.loads(request.body)["TransactItems"]
    return [
        str(action["Put"]["Item"]["EventId"]["S"])
        for action in actions
        if "Put" in action and action["Put"]["Item"]["PK"]["S"].startswith("EVENT#")
    ]


def test_records_of_ten_different_items_are_written_all_at_once(
    share_table: ShareTable, handler_module: Any, caplog: pytest.LogCaptureFixture
) -> None:
    item_ids = [f"item-{index}" for index in range(10)]
    seed_owned_items(share_table, item_ids)
    # Each transaction waits until all ten are in flight: a worker that wrote them one at a time
    # would break the barrier (after its timeout) and fail the records.
    all_in_flight = threading.Barrier(len(item_ids), timeout=10)

    def wait_for_the_others(event_name: str, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION:
            all_in_flight.wait()

    with (
        caplog.at_level(logging.WARNING, logger="urllib3"),
        before_send(worker_client(handler_module), wait_for_the_others),
    ):
        response = handler_module.lambda_handler(batch_on(item_ids), None)

    assert failed_ids(response) == []
    assert not all_in_flight.broken
    assert [shared_count(share_table, item_id) for item_id in item_ids] == [1] * len(item_ids)
    assert [record.getMessage() for record in caplog.records if "pool is full" in record.getMessage()] == []


def test_shares_of_one_item_commit_in_one_transaction_in_queue_order(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["shared-item", "other-item"])
    records = [sqs_record(share_body("shared-item", event_id=f"event-{index}")) for index in range(6)]
    records.insert(3, sqs_record(share_body("other-item", event_id="other-event")))
    sent: list[list[str]] = []
    lock = threading.Lock()

    def note(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION:
            with lock:
                sent.append(_transaction_event_ids(request))

    with before_send(worker_client(handler_module), note):
        response = handler_module.lambda_handler(sqs_event(*records), None)

    assert failed_ids(response) == []
    assert sorted(sent) == [[f"event-{index}" for index in range(6)], ["other-event"]]
    assert shared_count(share_table, "shared-item") == 6
    assert shared_count(share_table, "other-item") == 1


def test_partial_batch_response_stays_exact_with_parallel_records(
    share_table: ShareTable, handler_module: Any
) -> None:
    item_ids = [f"item-{index}" for index in range(6)]
    seed_owned_items(share_table, item_ids)
    records = [
        sqs_record(share_body(item_id, event_id=f"event-{item_id}"), f"m-{item_id}") for item_id in item_ids
    ]
    records.insert(1, sqs_record("not json", "m-invalid-1"))
    records.insert(5, sqs_record(share_body("item-0", shared_at="yesterday"), "m-invalid-2"))

    def fail_item_3(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION and _transaction_event_ids(request) == ["event-item-3"]:
            raise RuntimeError("injected failure of one record")

    with before_send(worker_client(handler_module), fail_item_3):
        response = handler_module.lambda_handler(sqs_event(*records), None)

    assert failed_ids(response) == ["m-invalid-1", "m-item-3", "m-invalid-2"]
    assert {item_id: shared_count(share_table, item_id) for item_id in item_ids} == {
        item_id: 0 if item_id == "item-3" else 1 for item_id in item_ids
    }
