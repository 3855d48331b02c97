"""``TransactWriteItems`` for the embedded moto server that costs the same on a big table as on an empty one.

moto 5.2.5 (pinned in pyproject.toml) makes a transaction all-or-nothing by deep-copying every table
it names, once per action, before it starts, and by putting those copies back when it is cancelled.
The copy grows with the table: a three-action share transaction takes about 12 ms on an empty table
and about 3 s at 20,000 rows (``make bench-moto``). This module replaces that one backend method with
the same algorithm, except that it keeps a journal of the items the transaction actually touches
(a deep copy of each, taken just before its action runs) and restores only those on cancellation.

Kept from moto, so callers see no difference: the order of the checks, the cancellation reasons (one
per action, in order, with the item's old image when ``ReturnValuesOnConditionCheckFailure`` is
``ALL_OLD``) and the validation errors. Changed: every failure rolls back, including the
"one of Check, Put, Update or Delete" error that moto raises after earlier actions were written.
Not rolled back (as in moto, nothing here uses them): DynamoDB Streams records.

Item-level snapshots are only sound if no other request changes the same items meanwhile, so the
method runs under :data:`DYNAMODB_LOCK`, the lock the embedded server also takes around every
DynamoDB request. moto keeps its backends per process, so the lock is per process too.

``tests/unit/test_moto_transactions.py`` checks this against moto's own method on generated
transactions; upgrading moto means re-reading ``DynamoDBBackend.transact_write_items`` first.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

DYNAMODB_LOCK = threading.RLock()
"""Held around every DynamoDB request of the embedded server and around each transaction."""

MOTO_TRANSACT_WRITE_ITEMS: Callable[[DynamoDBBackend, list[dict[str, Any]]], None] = (
    DynamoDBBackend.transact_write_items
)
"""moto's own implementation, kept for the benchmark and the equivalence tests."""

MAX_ACTIONS = 100
NO_ERROR: tuple[None, None, None] = (None, None, None)
ActionResult = tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]


@dataclass
class _Snapshot:
    """One item as it was before the transaction touched it (``item`` is ``None`` if it did not exist)."""

    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    item: Item | None

    def restore(self) -> None:
        bucket: dict[Any, Any] = self.table.items
        if self.range_key is not None:
            bucket = bucket[self.hash_key]
            key = self.range_key
        else:
            key = self.hash_key
        if self.item is None:
            bucket.pop(key, None)
        else:
            bucket[key] = self.item


def item_level_transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """Drop-in for ``DynamoDBBackend.transact_write_items``; see the module docstring."""
    if len(transact_items) > MAX_ACTIONS:
        raise TooManyTransactionsException()
    with DYNAMODB_LOCK:
        journal: list[_Snapshot] = []
        seen: set[tuple[str, str]] = set()
        try:
            results = [_apply(backend, action, journal, seen) for action in transact_items]
            if any(code is not None for code, _, _ in results):
                raise TransactionCanceledException(results)
        except Exception:
            for snapshot in reversed(journal):
                snapshot.restore()
            raise


def install() -> None:
    """Make every moto DynamoDB backend in this process use the item-level version (idempotent)."""
    DynamoDBBackend.transact_write_items = item_level_transact_write_items  # type: ignore[method-assign, assignment]


def _apply(
    backend: DynamoDBBackend, action: dict[str, Any], journal: list[_Snapshot], seen: set[tuple[str, str]]
) -> ActionResult:
    """Run one action the way moto does; a failed condition or write becomes its cancellation reason."""
    if len(action) > 1:
        raise TransactWriteSingleOpException()
    original_item: dict[str, Any] | None = None
    try:
        op_type, op = next(iter(action.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        if op_type == "Put":
            table = backend.get_table(table_name)
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        _check_unicity(seen, table_name, key)

        current = _snapshot(backend, table_name, key, journal)
        condition = op.get("ConditionExpression")
        names = op.get("ExpressionAttributeNames")
        values = op.get("ExpressionAttributeValues")
        if condition is not None and not get_filter_expression(condition, names, values).expr(current):
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                original_item = current.to_json()["Attributes"]
            raise ConditionalCheckFailed(item=original_item)

        conditions = {
            "condition_expression": condition,
            "expression_attribute_names": names,
            "expression_attribute_values": values,
        }
        if op_type == "Put":
            backend.put_item(table_name, op["Item"], **conditions)
        elif op_type == "Delete":
            backend.delete_item(table_name, key, **conditions)
        elif op_type == "Update":
            backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **conditions)
        return NO_ERROR
    except (MultipleTransactionsException, MockValidationException):
        raise
    except ConditionalCheckFailed as error:
        return ("ConditionalCheckFailed", str(error.message), original_item)
    except Exception as error:  # noqa: BLE001 - moto reports any other failure as that action's reason
        return (type(error).__name__, str(error), original_item)


def _check_unicity(seen: set[tuple[str, str]], table_name: str, key: dict[str, Any]) -> None:
    target = (str(table_name), str(dict(sorted(key.items()))))
    if target in seen:
        raise MultipleTransactionsException()
    seen.add(target)


def _snapshot(
    backend: DynamoDBBackend, table_name: str, key: dict[str, Any], journal: list[_Snapshot]
) -> Item | None:
    """The item ``key`` names (or ``None``), after recording a private copy of it in ``journal``."""
    table = backend.get_table(table_name)
    hash_key, range_key = backend.get_keys_value(table, key)
    current = table.get_item(hash_key, range_key)
    journal.append(_Snapshot(table, hash_key, range_key, copy.deepcopy(current)))
    return current
