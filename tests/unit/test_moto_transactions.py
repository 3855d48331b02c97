"""The item-level ``TransactWriteItems`` behaves exactly like moto's own, minus the whole-table copies.

Both run on in-process moto backends (no server needed): the same seed items, the same generated
transactions, then the raised error, the cancellation reasons and every item are compared.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.dynamodb.exceptions import DynamodbException
from moto.dynamodb.models import DynamoDBBackend

from local_runtime.aws.moto_transactions import MOTO_TRANSACT_WRITE_ITEMS, item_level_transact_write_items

TABLE = "shares"
KEYS = [("ITEM#a", "METADATA"), ("ITEM#b", "METADATA"), ("EVENT#e1", "EVENT"), ("USER#u", "ACTIVITY#1")]
SEED = {KEYS[0]: 1, KEYS[1]: 5}


def new_backend(seed: dict[tuple[str, str], int] = SEED) -> Any:
    backend = DynamoDBBackend("us-east-1", "123456789012")
    backend.create_table(
        TABLE,
        schema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        throughput=None,
        attr=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}],
        global_indexes=None,
        indexes=None,
        streams=None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    for (pk, sk), count in seed.items():
        backend.put_item(TABLE, {"PK": {"S": pk}, "SK": {"S": sk}, "Count": {"N": str(count)}})
    return backend


def contents(backend: Any) -> list[dict[str, Any]]:
    table = backend.get_table(TABLE)
    items = [item.to_json()["Attributes"] for bucket in table.items.values() for item in bucket.values()]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def outcome(implementation: Any, backend: Any, actions: list[dict[str, Any]]) -> tuple[str, str]:
    """What the caller would see: no error, or the error type and its body (incl. CancellationReasons)."""
    try:
        implementation(backend, actions)
    except DynamodbException as error:
        return type(error).__name__, error.description
    return "ok", ""


def key(pk_sk: tuple[str, str]) -> dict[str, Any]:
    return {"PK": {"S": pk_sk[0]}, "SK": {"S": pk_sk[1]}}


def put(pk_sk: tuple[str, str], count: int = 0, condition: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"TableName": TABLE, "Item": {**key(pk_sk), "Count": {"N": str(count)}}}
    if condition:
        body["ConditionExpression"] = condition
    return {"Put": body}


def add_one(pk_sk: tuple[str, str], condition: str | None = None, all_old: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "TableName": TABLE,
        "Key": key(pk_sk),
        "UpdateExpression": "ADD #count :one",
        "ExpressionAttributeNames": {"#count": "Count"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": "3"}},
    }
    if condition:
        body["ConditionExpression"] = condition
    if all_old:
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Update": body}


CONDITIONS = st.sampled_from(
    [None, "attribute_not_exists(PK)", "attribute_exists(PK)", "#count < :limit", "#count > :limit"]
)


@st.composite
def actions(draw: st.DrawFn) -> dict[str, Any]:
    target = draw(st.sampled_from(KEYS))
    kind = draw(st.sampled_from(["Put", "Update", "Delete", "ConditionCheck", "MissingTable"]))
    if kind == "Put":
        condition = draw(st.sampled_from([None, "attribute_not_exists(PK)", "attribute_exists(PK)"]))
        return put(target, draw(st.integers(0, 9)), condition)
    if kind == "Update":
        return add_one(target, draw(CONDITIONS), draw(st.booleans()))
    body: dict[str, Any] = {"TableName": TABLE, "Key": key(target)}
    if kind == "MissingTable":
        return {"Update": {**add_one(target)["Update"], "TableName": "no-such-table"}}
    condition = draw(st.sampled_from(["attribute_exists(PK)", "attribute_not_exists(PK)"]))
    if kind == "ConditionCheck" or draw(st.booleans()):
        body["ConditionExpression"] = condition
    return {kind: body}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transaction=st.lists(actions(), min_size=1, max_size=5))
def test_item_level_transactions_match_moto_on_generated_transactions(
    transaction: list[dict[str, Any]],
) -> None:
    moto_backend, item_level_backend = new_backend(), new_backend()

    expected = outcome(MOTO_TRANSACT_WRITE_ITEMS, moto_backend, transaction)
    actual = outcome(item_level_transact_write_items, item_level_backend, transaction)

    assert actual == expected
    assert contents(item_level_backend) == contents(moto_backend)


def test_cancelled_transaction_restores_every_item_it_wrote() -> None:
    backend = new_backend()
    before = contents(backend)
    transaction = [
        add_one(KEYS[0]),
        put(KEYS[2], condition="attribute_not_exists(PK)"),
        add_one(KEYS[1], condition="#count < :limit", all_old=True),
    ]

    kind, body = outcome(item_level_transact_write_items, backend, transaction)

    assert kind == "TransactionCanceledException"
    assert (
        '"CancellationReasons": [{"Code": "None"}, {"Code": "None"}, {"Code": "ConditionalCheckFailed"'
        in body
    )
    assert '"Item": {"PK": {"S": "ITEM#b"}, "SK": {"S": "METADATA"}, "Count": {"N": "5"}}' in body
    assert contents(backend) == before


def test_malformed_action_after_a_write_rolls_the_write_back() -> None:
    """moto leaves the first write in place here; a transaction must be all or nothing."""
    backend = new_backend()
    before = contents(backend)
    malformed = {**put(KEYS[2]), **add_one(KEYS[3])}

    with pytest.raises(DynamodbException, match="can only contain one of"):
        item_level_transact_write_items(backend, [add_one(KEYS[0]), malformed])

    assert contents(backend) == before


def test_two_actions_on_one_item_are_refused_and_nothing_is_written() -> None:
    backend = new_backend()
    before = contents(backend)

    kind, _ = outcome(item_level_transact_write_items, backend, [add_one(KEYS[0]), put(KEYS[0])])

    assert kind == "MultipleTransactionsException"
    assert contents(backend) == before
