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
from typing import Any

import pytest

from bench.request_log import SentRequest, logging_requests
from local_runtime.template import load_template
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
ENCLOSING_OPERATION_CONDITION = ("ForAnyValue:StringEquals", "dynamodb:EnclosingOperation")

Need = tuple[str, str | None]
"""An IAM action and the operation enclosing it (``None`` for a call of its own)."""


def needs_of(request: SentRequest) -> set[tuple[Need, str]]:
    """What ``request`` needs, each with the table it touches."""
    if request.operation == TRANSACTION:
        return {
            ((IAM_ACTION_OF_TRANSACTION_ACTION[kind], TRANSACTION), action[kind]["TableName"])
            for action in request.body["TransactItems"]
            for kind in action
        }
    if "RequestItems" in request.body:
        return {((f"dynamodb:{request.operation}", None), table) for table in request.body["RequestItems"]}
    return {((f"dynamodb:{request.operation}", None), request.body["TableName"])}


def dynamodb_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    role = template["Resources"]["ShareWorkerRole"]["Properties"]
    statements = [
        statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]
    ]
    return [statement for statement in statements if "dynamodb:" in json.dumps(statement["Action"])]


def actions_of(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def allows(statements: list[dict[str, Any]], need: Need) -> bool:
    """Whether a statement grants ``need``; the only condition understood is the enclosing operation."""
    action, enclosing = need
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if action not in actions_of(statement):
            continue
        condition = statement.get("Condition")
        if condition is None:
            return True
        operator, key = ENCLOSING_OPERATION_CONDITION
        assert set(condition) == {operator} and set(condition[operator]) == {key}, condition
        if enclosing in condition[operator][key]:
            return True
    return False


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
    assert {table for _, table in needs} == {share_table.name}
    called = {need for need, _ in needs}
    assert called == {
        ("dynamodb:BatchGetItem", None),
        ("dynamodb:PutItem", TRANSACTION),
        ("dynamodb:UpdateItem", TRANSACTION),
    }

    statements = dynamodb_statements(sam_transform(load_template()))
    assert [need for need in sorted(called, key=str) if not allows(statements, need)] == []
    granted = {action for statement in statements for action in actions_of(statement)}
    assert granted == {action for action, _ in called}, "the role grants an action the handler never calls"
    assert not allows(statements, ("dynamodb:PutItem", None)), "a record written outside a transaction"
    assert not allows(statements, ("dynamodb:UpdateItem", None)), "an item updated outside a transaction"
