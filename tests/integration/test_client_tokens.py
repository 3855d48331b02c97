"""``TransactWriteItems`` with a ``ClientRequestToken`` on the embedded server, as DynamoDB answers it.

A repeat of a token that succeeded is a success that writes nothing; the same token with other
parameters is ``IdempotentParameterMismatchException``; a token whose transaction was cancelled
runs again. (The worker's lost-answer case end to end: ``tests/reliability/test_faults.py``.)
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import ShareTable

pytestmark = pytest.mark.integration


def _increment(table: str, by: int, *, only_if_below: int = 100) -> Any:
    return {
        "Update": {
            "TableName": table,
            "Key": {"PK": {"S": "COUNTER"}, "SK": {"S": "COUNTER"}},
            "UpdateExpression": "ADD hits :by",
            "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
            "ExpressionAttributeValues": {":by": {"N": str(by)}, ":limit": {"N": str(only_if_below)}},
        }
    }


def _hits(share_table: ShareTable) -> int:
    item = share_table.table.get_item(Key={"PK": "COUNTER", "SK": "COUNTER"}, ConsistentRead=True).get("Item")
    return int(str(item["hits"])) if item else 0


def test_a_repeated_token_succeeds_without_applying_again(share_table: ShareTable) -> None:
    dynamodb = boto3.client("dynamodb")
    token = uuid.uuid4().hex

    for _ in range(3):
        dynamodb.transact_write_items(
            TransactItems=[_increment(share_table.name, 1)], ClientRequestToken=token
        )

    assert _hits(share_table) == 1


def test_the_same_token_with_other_parameters_is_a_mismatch(share_table: ShareTable) -> None:
    dynamodb = boto3.client("dynamodb")
    token = uuid.uuid4().hex
    dynamodb.transact_write_items(TransactItems=[_increment(share_table.name, 1)], ClientRequestToken=token)

    with pytest.raises(ClientError) as mismatch:
        dynamodb.transact_write_items(
            TransactItems=[_increment(share_table.name, 2)], ClientRequestToken=token
        )

    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert _hits(share_table) == 1


def test_a_cancelled_transaction_runs_again_with_its_token(share_table: ShareTable) -> None:
    dynamodb = boto3.client("dynamodb")
    token = uuid.uuid4().hex
    dynamodb.transact_write_items(TransactItems=[_increment(share_table.name, 5)])
    blocked: Any = [_increment(share_table.name, 1, only_if_below=5)]

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=blocked, ClientRequestToken=token)
    dynamodb.transact_write_items(TransactItems=[_increment(share_table.name, -1)])
    dynamodb.transact_write_items(TransactItems=blocked, ClientRequestToken=token)

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _hits(share_table) == 5
