"""FIFO queues keep their order; an ``eventId`` reused for another item or user becomes visible.

FIFO: records carry ``MessageGroupId`` and come from a queue whose ARN ends in ``.fifo``. A record
that fails stops the later records of its group in that batch (reported for retry, untouched), as
Powertools' ``SqsFifoPartialProcessor(skip_group_on_error=True)`` does; other groups go on.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from local_runtime.lambda_service.capture import captured_telemetry
from testkit.client_hooks import before_send, counting_requests, operation_of
from tests.conftest import ShareTable
from tests.factories import failed_ids, fifo_record, share_body, sqs_event, sqs_record
from tests.integration.batches import seed_owned_items, shared_count, worker_client

pytestmark = pytest.mark.integration


def _fifo(*records: tuple[str, str, str]) -> dict[str, Any]:
    """``(body, message id, group)`` records in queue order."""
    return sqs_event(
        *(
            fifo_record(body, message_id, group, index)
            for index, (body, message_id, group) in enumerate(records)
        )
    )


def test_an_invalid_record_stops_the_later_records_of_its_group_only(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["a", "b"])
    batch = _fifo(
        ("not json", "g1-1", "g1"),
        (share_body("a", event_id="e-g1-2"), "g1-2", "g1"),
        (share_body("b", event_id="e-g2-1"), "g2-1", "g2"),
        (share_body("a", event_id="e-g1-3"), "g1-3", "g1"),
        (share_body("b", event_id="e-g2-2"), "g2-2", "g2"),
    )

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == ["g1-1", "g1-2", "g1-3"]
    assert shared_count(share_table, "a") == 0 and shared_count(share_table, "b") == 2
    assert captured.metrics["ValidationErrors"] == 1 and captured.metrics["ProcessingErrors"] == 0
    skipped = [line for line in captured.logs if line["message"].startswith("Record not attempted")]
    assert [(line["message_id"], line["message_group_id"]) for line in skipped] == [
        ("g1-2", "g1"),
        ("g1-3", "g1"),
    ]


def test_a_failed_write_stops_the_later_records_of_its_group_and_keeps_the_earlier_ones(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["a", "b", "c"])
    batch = _fifo(
        (share_body("a", event_id="e-1"), "m-1", "g1"),
        (share_body("b", event_id="e-2"), "m-2", "g1"),
        (share_body("a", event_id="e-3"), "m-3", "g1"),
        (share_body("c", event_id="e-4"), "m-4", "g2"),
    )

    def fail_item_b(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == "TransactWriteItems" and '"ITEM#b"' in request.body.decode():
            raise RuntimeError("injected failure of item b's transaction")

    with before_send(worker_client(handler_module), fail_item_b):
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == ["m-2", "m-3"]
    assert [shared_count(share_table, item) for item in "abc"] == [1, 0, 1]


def test_within_a_group_only_consecutive_shares_of_one_item_commit_together(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["a", "b"])
    batch = _fifo(
        *((share_body("a", event_id=f"e-{i}"), f"m-{i}", "g1") for i in range(3)),
        (share_body("b", event_id="e-3"), "m-3", "g1"),
        (share_body("a", event_id="e-4"), "m-4", "g1"),
    )
    sent: list[list[str]] = []

    def note(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == "TransactWriteItems":
            actions = json.loads(request.body)["TransactItems"]
            sent.append([action["Put"]["Item"]["EventId"]["S"] for action in actions if "Put" in action][::2])

    with before_send(worker_client(handler_module), note):
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert sent == [["e-0", "e-1", "e-2"], ["e-3"], ["e-4"]]
    assert [shared_count(share_table, item) for item in "ab"] == [4, 1]


def test_an_event_id_applied_earlier_for_another_item_is_a_duplicate_and_a_visible_producer_bug(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["a", "b"])
    handler_module.lambda_handler(sqs_event(sqs_record(share_body("a", event_id="reused"), "m-1")), None)

    with captured_telemetry() as captured, counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(
            sqs_event(sqs_record(share_body("b", event_id="reused"), "m-2")), None
        )

    assert failed_ids(response) == []
    assert [shared_count(share_table, item) for item in "ab"] == [1, 0]
    assert requests.by_operation == {"BatchGetItem": 1}
    assert captured.metrics["DuplicateEvents"] == 1 and captured.metrics["ReusedEventIds"] == 1
    [warning] = [line for line in captured.logs if line["message"].startswith("Reused eventId")]
    assert warning["level"] == "WARNING" and warning["message_id"] == "m-2"
    assert (warning["item_id"], warning["earlier_item_id"], warning["earlier_user_id"]) == (
        "b",
        "a",
        "user123",
    )


def test_an_event_id_reused_in_one_batch_for_two_items_is_applied_once(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["a", "b"])
    batch = sqs_event(
        sqs_record(share_body("a", event_id="reused"), "m-1"),
        sqs_record(share_body("b", event_id="reused"), "m-2"),
    )

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert sorted(shared_count(share_table, item) for item in "ab") == [0, 1]
    assert (
        len(share_table.records_with_prefix("EVENT#")) == len(share_table.records_with_prefix("USER#")) == 1
    )
    assert captured.metrics["ShareEventsProcessed"] == 1
    assert captured.metrics["DuplicateEvents"] == 1 and captured.metrics["ReusedEventIds"] == 1


def test_an_event_id_reused_by_another_user_of_the_same_item_is_flagged(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("a", public=True)
    batch = sqs_event(
        sqs_record(share_body("a", "user-1", event_id="reused"), "m-1"),
        sqs_record(share_body("a", "user-2", event_id="reused"), "m-2"),
    )

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert shared_count(share_table, "a") == 1
    assert [entry["UserId"] for entry in share_table.records_with_prefix("USER#")] == ["user-1"]
    assert captured.metrics["ReusedEventIds"] == 1


def test_message_groups_sharing_one_item_take_turns_on_it_instead_of_conflicting(
    share_table: ShareTable, handler_module: Any
) -> None:
    """One message group per user (a natural key) and ten users sharing one item: ten lanes hold shares
    of it. Two transactions on one item at once cancel each other in DynamoDB, so they take turns."""
    share_table.put_item("hot", owner="u0", public=True)
    batch = _fifo(
        *((share_body("hot", f"u{index}", f"e-{index}"), f"m-{index}", f"g-{index}") for index in range(10))
    )
    lock, in_flight = threading.Lock(), {"now": 0, "most": 0}

    def on_the_item(event_name: str, **_: Any) -> None:
        if operation_of(event_name) == "TransactWriteItems":
            with lock:
                in_flight["now"] += 1
                in_flight["most"] = max(in_flight["most"], in_flight["now"])
            time.sleep(0.05)  # a round trip long enough for the others to start theirs, if they could
            with lock:
                in_flight["now"] -= 1

    with before_send(worker_client(handler_module), on_the_item):
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert in_flight["most"] == 1
    assert shared_count(share_table, "hot") == 10


def test_a_copy_of_a_refused_share_keeps_its_place_in_its_message_group(
    share_table: ShareTable, handler_module: Any
) -> None:
    """stranger (refused), owner, the stranger's copy, another stranger: the copy is a share to write
    again, so it joins the owner's transaction in its place instead of being stepped over, and when
    that transaction fails nothing after it in the group succeeds."""
    share_table.put_item("private", owner="owner", public=False)
    stranger = share_body("private", "stranger", "e-stranger")
    batch = _fifo(
        (stranger, "m-1", "g1"),
        (share_body("private", "owner", "e-owner"), "m-2", "g1"),
        (stranger, "m-3", "g1"),
        (share_body("private", "other", "e-other"), "m-4", "g1"),
    )
    transactions: list[str] = []

    def the_owner_s_transaction_fails(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == "TransactWriteItems":
            actions = json.loads(request.body)["TransactItems"]
            keys = [action["Put"]["Item"]["PK"]["S"] for action in actions if "Put" in action]
            transactions.append(" ".join(key for key in keys if key.startswith("EVENT#")))
            if len(transactions) > 1:
                raise ConnectionResetError("the connection was lost")

    with before_send(worker_client(handler_module), the_owner_s_transaction_fails):
        response = handler_module.lambda_handler(batch, None)

    assert transactions == ["EVENT#e-stranger", "EVENT#e-owner EVENT#e-stranger EVENT#e-other"]
    assert failed_ids(response) == ["m-2", "m-3", "m-4"]
    assert shared_count(share_table, "private") == 0
