"""Which records a DynamoDB request reads or writes, read from its JSON body alone.

A request names every record it touches: a ``Key``, or the ``Item`` of a ``Put`` (whose key attributes
come from the table's key schema). The response is not needed, so a request is priced the same whether
its condition held or not, which is how DynamoDB bills a failed conditional write too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.request_log import SentRequest
from services.keys import item_key, marker_key, user_pk

ITEM_PREFIX, MARKER_PREFIX, FEED_PREFIX = item_key("")["PK"], marker_key("")["PK"], user_pk("")
"""The partition keys' prefixes: ``ITEM#``, ``EVENT#``, ``USER#``."""
WireItem = Mapping[str, Any]
"""Attribute name -> attribute value in DynamoDB's wire form (``{"S": "..."}``, ``{"N": "1"}``...)."""
KeyNames = Mapping[str, Sequence[str]]
"""Table name -> its key attributes, partition key first (``("PK", "SK")``, ``("id",)``)."""

TRANSACT_WRITE_ACTIONS = ("Put", "Update", "Delete", "ConditionCheck")


class UnpricedRequest(ValueError):
    """A request this model does not price (a ``Query``, a ``Scan``...): no figure rather than a wrong one."""


@dataclass(frozen=True)
class Access:
    """One record read or written by one request (a transaction or a batch read names several)."""

    table: str
    key: WireItem
    """Only the key attributes, partition key first."""
    write: bool
    transactional: bool = False
    consistent: bool = False
    """Reads only: strongly consistent."""
    condition_check: bool = False
    """A transaction's ``ConditionCheck``: billed like a write, but writes nothing."""
    item: WireItem | None = None
    """The whole item a ``Put`` sends."""

    @property
    def partition(self) -> str:
        return partition_of(self.key)

    def writes_record(self, partition_prefix: str) -> bool:
        """A ``Put``, ``Update`` or ``Delete`` of a record whose partition key starts so."""
        return self.write and not self.condition_check and self.partition.startswith(partition_prefix)


def partition_of(key: WireItem) -> str:
    """The partition key's value as text (``ITEM#item-0``); ``key`` lists the partition key first."""
    value = next(iter(key.values()))
    return str(next(iter(value.values())))


def accesses_of(request: SentRequest, key_names: KeyNames) -> list[Access]:
    """Every record ``request`` touches, in the order its body names them."""
    return list(_accesses(request.operation, request.body, key_names))


def record_writes(requests: Sequence[SentRequest], key_names: KeyNames, partition_prefix: str) -> int:
    """How many times ``requests`` write a record whose partition key starts with ``partition_prefix``."""
    return sum(
        access.writes_record(partition_prefix)
        for request in requests
        for access in accesses_of(request, key_names)
    )


def item_record_writes(requests: Sequence[SentRequest], key_names: KeyNames) -> int:
    """How many times ``requests`` write an item's record (``ITEM#``): the hot partition's writes."""
    return record_writes(requests, key_names, ITEM_PREFIX)


def _accesses(operation: str, body: Mapping[str, Any], key_names: KeyNames) -> Iterator[Access]:
    if operation == "GetItem":
        table = body["TableName"]
        consistent = bool(body.get("ConsistentRead"))
        yield Access(table, _key(table, body["Key"], key_names), write=False, consistent=consistent)
    elif operation == "BatchGetItem":
        for table, request in body["RequestItems"].items():
            for key in request["Keys"]:
                consistent = bool(request.get("ConsistentRead"))
                yield Access(table, _key(table, key, key_names), write=False, consistent=consistent)
    elif operation == "TransactGetItems":
        for action in body["TransactItems"]:
            get = action["Get"]
            table = get["TableName"]
            yield Access(table, _key(table, get["Key"], key_names), write=False, transactional=True)
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        yield _write(operation.removesuffix("Item"), body, key_names, transactional=False)
    elif operation == "TransactWriteItems":
        for action in body["TransactItems"]:
            (name, parameters), *_ = action.items()
            if name not in TRANSACT_WRITE_ACTIONS:
                raise UnpricedRequest(f"TransactWriteItems action {name}")
            yield _write(name, parameters, key_names, transactional=True)
    else:
        raise UnpricedRequest(operation)


def _write(action: str, parameters: Mapping[str, Any], key_names: KeyNames, *, transactional: bool) -> Access:
    table = parameters["TableName"]
    item = parameters["Item"] if action == "Put" else None
    return Access(
        table,
        _key(table, item if item is not None else parameters["Key"], key_names),
        write=True,
        transactional=transactional,
        condition_check=action == "ConditionCheck",
        item=item,
    )


def _key(table: str, attributes: WireItem, key_names: KeyNames) -> dict[str, Any]:
    try:
        names = key_names[table]
    except KeyError:
        raise UnpricedRequest(f"no key schema known for table {table}") from None
    return {name: attributes[name] for name in names}
