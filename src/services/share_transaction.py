"""The one ``TransactWriteItems`` that applies new shares of one item, and what its cancellation means.

Layout, which is also the order of ``CancellationReasons``:

* action 0: ONE update of the item, ``SET IsPublic, UpdatedAt ADD SharedCount :k``, conditioned on the
  item existing and on the owner rule for the FIRST share of the group (once it is applied the item
  is public, so every later share of the group passes too);
* then, per share, its dedup marker and its feed entry, both ``attribute_not_exists(PK)`` and both
  returning the record already there (``ALL_OLD``) when that condition fails.

A group of one share is the event-by-event form of the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.dynamodb_service import ITEM_SHAREABLE_CONDITION, CancellationReason, Item, plain_item
from services.keys import item_key

MAX_TRANSACTION_ACTIONS = 100
ACTIONS_PER_SHARE = 2
MAX_SHARES_PER_TRANSACTION = (MAX_TRANSACTION_ACTIONS - 1) // ACTIONS_PER_SHARE
MAX_TRANSACTION_BYTES = 4_000_000
"""DynamoDB refuses transactions over 4 MB of items; this stays below it with room for estimates."""

ITEM_ACTION = 0
CONDITION_FAILED = "ConditionalCheckFailed"
NO_FAILURE = "None"
CONTENTION_CODES = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
"""Cancellation reasons that say nothing about the data: another try may well succeed."""
NOT_EXISTS = "attribute_not_exists(PK)"


@dataclass(frozen=True)
class ShareWrites:
    """What one share writes besides the item: its dedup marker and its feed entry."""

    marker: Item
    activity: Item

    def size(self) -> int:
        return estimated_size(self.marker) + estimated_size(self.activity)


def transaction_actions(
    table_name: str, item_id: str, first_user_id: str, writes: Sequence[ShareWrites], now: str
) -> list[dict[str, Any]]:
    update = {
        "Update": {
            "TableName": table_name,
            "Key": item_key(item_id),
            "UpdateExpression": "SET IsPublic = :true, UpdatedAt = :now ADD SharedCount :count",
            "ConditionExpression": ITEM_SHAREABLE_CONDITION,
            "ExpressionAttributeValues": {
                ":true": True,
                ":now": now,
                ":count": len(writes),
                ":user": first_user_id,
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    actions: list[dict[str, Any]] = [update]
    for share in writes:
        actions += [_put_new(table_name, share.marker), _put_new(table_name, share.activity)]
    return actions


def _put_new(table_name: str, record: Item) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": table_name,
            "Item": record,
            "ConditionExpression": NOT_EXISTS,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


@dataclass(frozen=True)
class CancellationReading:
    """What the reasons of a cancelled share transaction say, share by share."""

    duplicates: Mapping[int, Item | None]
    """Position of each share already applied, with the marker or feed entry found (``None`` if not sent)."""
    item_refused: bool
    """The item's condition failed: it does not exist, or the owner rule refused the first share."""
    item_image: Item | None
    """The item as DynamoDB saw it when its condition failed (``None``: it does not exist)."""
    contention: tuple[str, ...]
    """Codes that only say "try again" (conflict, throttling)."""
    unexpected: tuple[str, ...]
    """Any other code: the outcome is unknown and must not be guessed."""


def read_cancellation(reasons: Sequence[CancellationReason], shares: int) -> CancellationReading:
    codes = [str(reason.get("Code") or NO_FAILURE) for reason in reasons]
    if len(codes) != 1 + ACTIONS_PER_SHARE * shares:
        return CancellationReading(
            {}, False, None, (), (f"{len(codes)} reasons for {shares} shares: {codes}",)
        )
    duplicates: dict[int, Item | None] = {}
    for position in range(shares):
        for action in (1 + ACTIONS_PER_SHARE * position, 2 + ACTIONS_PER_SHARE * position):
            if codes[action] == CONDITION_FAILED:
                duplicates.setdefault(position, _image(reasons[action]))
    item_refused = codes[ITEM_ACTION] == CONDITION_FAILED
    return CancellationReading(
        duplicates=duplicates,
        item_refused=item_refused,
        item_image=_image(reasons[ITEM_ACTION]) if item_refused else None,
        contention=tuple(code for code in codes if code in CONTENTION_CODES),
        unexpected=tuple(
            code
            for code in codes
            if code not in CONTENTION_CODES and code not in (NO_FAILURE, CONDITION_FAILED)
        ),
    )


def _image(reason: CancellationReason) -> Item | None:
    image = reason.get("Item")
    return plain_item(image) if image else None


def estimated_size(record: Mapping[str, Any]) -> int:
    """An upper estimate of a record's DynamoDB size: attribute names plus values, in bytes."""
    return sum(len(name.encode()) + _value_size(value) for name, value in record.items())


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | Decimal):
        return 21
    if isinstance(value, Mapping):
        return 3 + estimated_size(value)
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(1 + _value_size(member) for member in value)
    return len(str(value).encode())
