"""The function's role grants exactly the DynamoDB actions its deployed path calls, and no more.

The handler runs batches that take every path a record can take (applied alone and coalesced, a
repeat in the batch, a duplicate of an earlier batch, a missing item, a stranger's share of a private
item refused by the transaction's condition, an invalid body) against the embedded server. Every request
its client sends is recorded with its body, and each one becomes the IAM actions it needs: a
``TransactWriteItems`` needs one action per kind of action inside it, under the enclosing operation
``TransactWriteItems``. Those are compared with the statements of the SAM-transformed template's role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pytest

from bench.request_log import SentRequest, logging_requests
from local_runtime.stack.template import load_template
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.integration.batches import shared_count, worker_client

pytestmark = pytest.mark.integration

TRANSACTION = "TransactWriteItems"
IAM_ACTION_OF_TRANSACTION_ACTION = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
ENCLOSING_OPERATION = ("ForAnyValue:StringEquals", "dynamodb:EnclosingOperation")
LEADING_KEYS = ("ForAllValues:StringLike", "dynamodb:LeadingKeys")


@dataclass(frozen=True)
class Need:
    """One IAM authorisation a request needs: one statement must allow the action for all its keys
    (IAM evaluates a ``BatchGetItem`` once, ``dynamodb:LeadingKeys`` holding every key it reads; each
    action of a transaction on its own)."""

    action: str
    enclosing: str | None
    """The operation enclosing the action (``None``: a call of its own)."""
    partition_keys: frozenset[str]
    table: str


def needs_of(request: SentRequest) -> set[Need]:
    if request.operation == TRANSACTION:
        return {
            Need(
                IAM_ACTION_OF_TRANSACTION_ACTION[kind],
                TRANSACTION,
                frozenset([_partition_key(action[kind].get("Key") or action[kind]["Item"])]),
                action[kind]["TableName"],
            )
            for action in request.body["TransactItems"]
            for kind in action
        }
    if request.operation == "BatchGetItem":
        return {
            Need(
                f"dynamodb:{request.operation}",
                None,
                frozenset(_partition_key(key) for key in read["Keys"]),
                table,
            )
            for table, read in request.body["RequestItems"].items()
        }
    raise AssertionError(f"the handler sent {request.operation}, which this test does not know how to read")


def _partition_key(key: dict[str, Any]) -> str:
    return str(key["PK"]["S"])


def dynamodb_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    role = template["Resources"]["ShareWorkerRole"]["Properties"]
    statements = [
        statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]
    ]
    return [statement for statement in statements if "dynamodb:" in json.dumps(statement["Action"])]


def actions_of(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def allows(
    statements: list[dict[str, Any]], action: str, enclosing: str | None, *partition_keys: str
) -> bool:
    """Whether ONE statement grants the action for all the keys; the conditions understood: enclosing
    operation, leading keys."""
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if action in actions_of(statement) and _conditions_hold(statement, enclosing, partition_keys):
            return True
    return False


def _conditions_hold(
    statement: dict[str, Any], enclosing: str | None, partition_keys: tuple[str, ...]
) -> bool:
    conditions = {
        (operator, key): values
        for operator, by_key in statement.get("Condition", {}).items()
        for key, values in by_key.items()
    }
    assert set(conditions) <= {ENCLOSING_OPERATION, LEADING_KEYS}, conditions
    if ENCLOSING_OPERATION in conditions and enclosing not in conditions[ENCLOSING_OPERATION]:
        return False
    patterns = conditions.get(LEADING_KEYS, ["*"])
    return all(any(fnmatchcase(key, pattern) for pattern in patterns) for key in partition_keys)


def every_path(share_table: ShareTable) -> list[dict[str, Any]]:
    share_table.put_item("public-item", owner="owner", public=True)
    share_table.put_item("private-item", owner="owner", public=False)
    first = share_body("public-item", "u1", "e-first")
    batch = sqs_event(
        sqs_record(first),
        sqs_record(share_body("public-item", "u2", "e-coalesced")),
        sqs_record(first),
        sqs_record(share_body("private-item", "stranger", "e-refused")),
        sqs_record(share_body("missing-item", "u1", "e-missing")),
        sqs_record("not json", "invalid-message"),
    )
    redelivery = sqs_event(sqs_record(first))
    return [batch, redelivery]


def test_the_role_grants_exactly_what_the_handler_calls_and_writes_only_inside_transactions(
    share_table: ShareTable, handler_module: Any, sam_transform: Any
) -> None:
    batches = every_path(share_table)

    with logging_requests([worker_client(handler_module)]) as log:
        responses = [handler_module.lambda_handler(batch, None) for batch in batches]

    assert [failed_ids(response) for response in responses] == [["invalid-message"], []]
    assert shared_count(share_table, "public-item") == 2
    assert shared_count(share_table, "private-item") == 0

    needs = {need for request in log.requests for need in needs_of(request)}
    assert {need.table for need in needs} == {share_table.name}
    assert {
        (need.action, need.enclosing, frozenset(key.split("#")[0] for key in need.partition_keys))
        for need in needs
    } == {
        ("dynamodb:BatchGetItem", None, frozenset({"ITEM", "EVENT"})),
        ("dynamodb:UpdateItem", TRANSACTION, frozenset({"ITEM"})),
        ("dynamodb:PutItem", TRANSACTION, frozenset({"EVENT"})),
        ("dynamodb:PutItem", TRANSACTION, frozenset({"USER"})),
    }

    statements = dynamodb_statements(sam_transform(load_template()))
    refused = [
        need for need in needs if not allows(statements, need.action, need.enclosing, *need.partition_keys)
    ]
    assert refused == []
    granted = {action for statement in statements for action in actions_of(statement)}
    assert granted == {need.action for need in needs}, "the role grants an action the handler never calls"
    for outside_a_transaction in ("dynamodb:PutItem", "dynamodb:UpdateItem"):
        assert not allows(statements, outside_a_transaction, None, "EVENT#e-first")
    assert not allows(statements, "dynamodb:UpdateItem", TRANSACTION, "USER#u1"), "a feed entry updated"
    assert not allows(statements, "dynamodb:PutItem", TRANSACTION, "ITEM#public-item"), "an item replaced"
    assert not allows(statements, "dynamodb:BatchGetItem", None, "USER#u1"), "a feed read"
    assert not allows(statements, "dynamodb:BatchGetItem", None, "ITEM#a", "USER#u1"), (
        "a feed read among items"
    )
    assert not allows(statements, "dynamodb:PutItem", TRANSACTION, "ORDER#1"), "an app's record written"
