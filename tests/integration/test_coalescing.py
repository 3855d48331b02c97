"""The new shares of one item in a batch commit in ONE transaction with ONE write of the item.

Each test counts the worker's real HTTP requests (a ``before-send`` hook on its client) and reads the
table back. Where another invocation has to act between the batch's read and its transaction (an
event applied meanwhile, the item turned private or deleted), a hook does that just before the
worker's first transaction is sent, through a client of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from local_runtime.lambda_service.capture import captured_telemetry
from services.bootstrap import build_worker
from services.config import Settings
from services.keys import item_key
from testkit.client_hooks import before_send, counting_requests, operation_of
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.integration.batches import seed_owned_items, shared_count, worker_client

pytestmark = pytest.mark.integration

TRANSACTION = "TransactWriteItems"


def _item_writes(request: Any) -> int:
    """Actions of a transaction that write an ``ITEM#`` record."""
    actions = json.loads(request.body)["TransactItems"]
    return sum(
        1
        for action in actions
        for kind, body in action.items()
        if kind != "ConditionCheck" and (body.get("Key") or body.get("Item"))["PK"]["S"].startswith("ITEM#")
    )


def _shares(item_id: str, users: list[str], prefix: str = "e") -> dict[str, Any]:
    return sqs_event(
        *(
            sqs_record(share_body(item_id, user, event_id=f"{prefix}-{index}"), f"m-{index}")
            for index, user in enumerate(users)
        )
    )


def _before_first_transaction(handler_module: Any, action: Callable[[], None]) -> Any:
    """A hook that runs ``action`` once, just before the worker sends its first transaction."""
    done: list[bool] = []

    def hook(event_name: str, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION and not done:
            done.append(True)
            action()

    return before_send(worker_client(handler_module), hook)


def _event_ids(share_table: ShareTable, prefix: str) -> list[str]:
    return sorted(str(record["EventId"]) for record in share_table.records_with_prefix(prefix))


def test_ten_new_shares_of_one_item_cost_one_read_one_transaction_and_one_item_write(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["hot-item"])
    item_writes: list[int] = []

    def note(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION:
            item_writes.append(_item_writes(request))

    client = worker_client(handler_module)
    with counting_requests(client) as requests, before_send(client, note), captured_telemetry() as captured:
        response = handler_module.lambda_handler(_shares("hot-item", ["user123"] * 10), None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert item_writes == [1]
    assert shared_count(share_table, "hot-item") == 10
    expected = sorted(f"e-{index}" for index in range(10))
    assert _event_ids(share_table, "EVENT#") == _event_ids(share_table, "USER#") == expected
    assert captured.metrics["ShareEventsProcessed"] == 10 and captured.metrics["TransactionRetries"] == 0


def test_ten_shares_over_three_items_cost_at_most_four_requests(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["a", "b", "c"])
    items = ["a", "b", "a", "c", "a", "b", "c", "a", "b", "a"]
    batch = sqs_event(*(sqs_record(share_body(item, event_id=f"e-{i}")) for i, item in enumerate(items)))

    with counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 3}
    assert [shared_count(share_table, item) for item in "abc"] == [5, 3, 2]
    assert (
        len(share_table.records_with_prefix("EVENT#")) == len(share_table.records_with_prefix("USER#")) == 10
    )


def test_the_owner_rule_holds_in_queue_order_inside_a_batch(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("private-item", owner="owner", public=False)

    with counting_requests(worker_client(handler_module)) as requests, captured_telemetry() as captured:
        response = handler_module.lambda_handler(
            _shares("private-item", ["stranger-1", "stranger-2", "owner", "stranger-3"]), None
        )

    assert failed_ids(response) == []
    item = share_table.item("private-item")
    assert item is not None and item["SharedCount"] == 2 and item["IsPublic"] is True
    assert _event_ids(share_table, "USER#") == ["e-2", "e-3"]  # the owner's share and the one after it
    assert captured.metrics["UnauthorizedShares"] == 2 and captured.metrics["ShareEventsProcessed"] == 2
    # The strangers before the owner go one by one; the owner's share leads the rest in one transaction.
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 3}


def test_shares_applied_by_another_invocation_meanwhile_are_duplicates_and_the_rest_commit(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["hot-item"])
    batch = _shares("hot-item", ["user123"] * 5)
    other = build_worker(Settings(table_name=share_table.name))

    def other_invocation_applies_two() -> None:
        with other.processor(records=[batch["Records"][1], batch["Records"][3]], handler=lambda _: None):
            other.processor.process()

    with (
        _before_first_transaction(handler_module, other_invocation_applies_two),
        counting_requests(worker_client(handler_module)) as requests,
        captured_telemetry() as captured,
    ):
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert shared_count(share_table, "hot-item") == 5
    assert (
        _event_ids(share_table, "EVENT#") == _event_ids(share_table, "USER#") == [f"e-{i}" for i in range(5)]
    )
    assert captured.metrics["ShareEventsProcessed"] == 5  # three here, two by the other invocation
    assert captured.metrics["DuplicateEvents"] == 2
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 2}


def test_an_item_turned_private_since_the_read_is_shared_event_by_event_in_queue_order(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("item", owner="owner", public=True)

    def owner_makes_it_private() -> None:
        share_table.table.update_item(
            Key=item_key("item"),
            UpdateExpression="SET IsPublic = :false",
            ExpressionAttributeValues={":false": False},
        )

    with _before_first_transaction(handler_module, owner_makes_it_private), captured_telemetry() as captured:
        response = handler_module.lambda_handler(
            _shares("item", ["stranger-1", "stranger-2", "owner", "stranger-3"]), None
        )

    assert failed_ids(response) == []
    assert shared_count(share_table, "item") == 2
    assert _event_ids(share_table, "USER#") == ["e-2", "e-3"]
    assert captured.metrics["UnauthorizedShares"] == 2


def test_an_item_deleted_since_the_read_gets_nothing_written(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["doomed"])

    def api_deletes_it() -> None:
        share_table.table.delete_item(Key=item_key("doomed"))

    with _before_first_transaction(handler_module, api_deletes_it), captured_telemetry() as captured:
        response = handler_module.lambda_handler(_shares("doomed", ["user123"] * 4), None)

    assert failed_ids(response) == []
    assert share_table.all_records() == []
    assert captured.metrics["ItemNotFound"] == 4


def test_a_hundred_shares_of_one_item_are_split_into_transactions_of_at_most_a_hundred_actions(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["hot-item"])
    sizes: list[int] = []

    def note(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION:
            sizes.append(len(json.loads(request.body)["TransactItems"]))

    with before_send(worker_client(handler_module), note):
        response = handler_module.lambda_handler(_shares("hot-item", ["user123"] * 100), None)

    assert failed_ids(response) == []
    assert sizes == [99, 99, 5]  # 49 shares (1 item update + 2 x 49), 49, then 2
    assert shared_count(share_table, "hot-item") == 100
    assert (
        len(share_table.records_with_prefix("EVENT#")) == len(share_table.records_with_prefix("USER#")) == 100
    )


def test_big_feed_entries_split_the_transaction_below_four_megabytes(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("big-item", name="x" * 350_000)  # every feed entry copies the item's name
    sizes: list[int] = []

    def note(event_name: str, request: Any, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION:
            sizes.append(len(request.body))

    with before_send(worker_client(handler_module), note):
        response = handler_module.lambda_handler(_shares("big-item", ["user123"] * 20), None)

    assert failed_ids(response) == []
    assert len(sizes) == 2 and max(sizes) < 4 * 1024 * 1024
    assert shared_count(share_table, "big-item") == 20


def test_a_share_dynamodb_refuses_fails_alone_and_the_other_shares_of_its_item_apply(
    share_table: ShareTable, handler_module: Any
) -> None:
    """A feed entry copies the item's name: near the 400 KB limit, a share with long ids makes an
    entry too big for DynamoDB while shorter ones fit. The group it was in is sent again one by one."""
    share_table.put_item("big", name="x" * 404_600, public=True)
    long_id = "L" * 128
    records = [
        sqs_record(share_body("big", "user123", event_id=f"e-{index}"), f"m-{index}") for index in range(4)
    ]
    records.insert(2, sqs_record(share_body("big", long_id, event_id=long_id), "m-long"))

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(sqs_event(*records), None)

    assert failed_ids(response) == ["m-long"]
    assert shared_count(share_table, "big") == 4
    assert captured.metrics["ShareEventsProcessed"] == 4 and captured.metrics["ProcessingErrors"] == 1
    [error] = [line for line in captured.logs if line["level"] == "ERROR"]
    assert error["message_id"] == "m-long" and "ValidationException" in error["message"]


def test_a_repeat_of_an_event_in_the_batch_writes_nothing_of_its_own(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["item"])
    body = share_body("item", event_id="same")
    batch = sqs_event(
        sqs_record(body, "m-1"),
        sqs_record(share_body("item", event_id="other"), "m-2"),
        sqs_record(body, "m-3"),
    )

    with counting_requests(worker_client(handler_module)) as requests, captured_telemetry() as captured:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert shared_count(share_table, "item") == 2
    assert captured.metrics["DuplicateEvents"] == 1 and captured.metrics["ReusedEventIds"] == 0


def test_shares_counted_once_whatever_the_batch_and_its_redelivery(
    share_table: ShareTable, handler_module: Any
) -> None:
    seed_owned_items(share_table, ["hot-item"])
    batch = _shares("hot-item", ["user123"] * 10)
    handler_module.lambda_handler(batch, None)

    with counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1}
    item = share_table.item("hot-item")
    assert item is not None and item["SharedCount"] == Decimal(10)


def test_a_share_applied_meanwhile_is_a_duplicate_even_when_its_item_vanishes_too(
    share_table: ShareTable, handler_module: Any
) -> None:
    """60 shares of one item: the first transaction takes 49. Before it, another invocation applies
    share 55 and the API deletes the item. Share 55 is a duplicate, the other 59 are not found."""
    seed_owned_items(share_table, ["doomed"])
    records = [sqs_record(share_body("doomed", event_id=f"e-{index}"), f"m-{index}") for index in range(60)]
    other = build_worker(Settings(table_name=share_table.name))
    done: list[bool] = []

    def meanwhile(event_name: str, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION and not done:
            done.append(True)
            with other.processor(records=[records[55]], handler=lambda _: None):
                other.processor.process()
            share_table.table.delete_item(Key=item_key("doomed"))

    with before_send(worker_client(handler_module), meanwhile), captured_telemetry() as captured:
        response = handler_module.lambda_handler(sqs_event(*records), None)

    outcomes = {line["message_id"]: line["outcome"] for line in captured.logs if "outcome" in line}
    assert failed_ids(response) == []
    assert outcomes["m-55"] == "DUPLICATE"
    assert {outcome for message_id, outcome in outcomes.items() if message_id != "m-55"} == {"ITEM_NOT_FOUND"}
    assert (captured.metrics["ItemNotFound"], captured.metrics["DuplicateEvents"]) == (59, 1)


def test_a_copy_of_a_refused_share_is_applied_once_the_owner_made_the_item_public(
    share_table: ShareTable, handler_module: Any
) -> None:
    """stranger, owner, the stranger's share again (a copy): as event by event, the copy applies."""
    share_table.put_item("private", owner="owner", public=False)
    stranger = share_body("private", "stranger", event_id="e-stranger")
    batch = sqs_event(
        sqs_record(stranger, "m-1"),
        sqs_record(share_body("private", "owner", event_id="e-owner"), "m-2"),
        sqs_record(stranger, "m-3"),
    )

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(batch, None)

    outcomes = [line["outcome"] for line in captured.logs if "outcome" in line]
    assert failed_ids(response) == []
    assert outcomes == ["UNAUTHORIZED", "APPLIED", "APPLIED"]
    assert shared_count(share_table, "private") == 2


def test_shares_after_an_item_vanished_and_came_back_are_applied_with_its_name(
    share_table: ShareTable, handler_module: Any
) -> None:
    """60 shares: the item is deleted before the first transaction (49 shares, not found) and back
    before the rest are tried: they are read again and applied, feed entries naming the item."""
    share_table.put_item("doomed", public=True, name="Red dress")
    records = [sqs_record(share_body("doomed", event_id=f"e-{index}"), f"m-{index}") for index in range(60)]
    transactions: list[bool] = []

    def the_api(event_name: str, **_: Any) -> None:
        if operation_of(event_name) == TRANSACTION and not transactions:
            transactions.append(True)
            share_table.table.delete_item(Key=item_key("doomed"))
        elif operation_of(event_name) == "BatchGetItem" and transactions:
            share_table.put_item("doomed", public=True, name="Red dress")

    with before_send(worker_client(handler_module), the_api), captured_telemetry() as captured:
        response = handler_module.lambda_handler(sqs_event(*records), None)

    assert failed_ids(response) == []
    assert (captured.metrics["ItemNotFound"], captured.metrics["ShareEventsProcessed"]) == (49, 11)
    assert {entry["ItemName"] for entry in share_table.records_with_prefix("USER#")} == {"Red dress"}
    assert shared_count(share_table, "doomed") == 11
