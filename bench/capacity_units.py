"""DynamoDB capacity units of a request, by DynamoDB's billing rules, from its body and the records' sizes.

Item size (what DynamoDB rounds up): the sum, over the attributes, of the name's UTF-8 bytes and the
value's size: a string its UTF-8 bytes; a number 1 byte per two significant digits plus 1; binary its
bytes; a boolean or null 1 byte; a list or map 3 bytes plus, per element, 1 byte, its value and (map) its
name; a set the sum of its elements. The 100 bytes DynamoDB adds per item for storage and indexes are
not part of read and write units.

Units, per record a request touches (see :mod:`bench.accesses`):

* standard write (``PutItem``, ``UpdateItem``, ``DeleteItem``): 1 unit per KB, rounded up, of the larger
  of the record before and after; a write whose condition fails still costs the same;
* transactional write (each action of ``TransactWriteItems``, ``ConditionCheck`` included): 2 per KB;
* read (``GetItem``; ``BatchGetItem`` prices each key on its own, rounded up on its own): 1 unit per
  4 KB if strongly consistent, 0.5 if eventually consistent, 2 if transactional; a key with no record
  still costs the minimum.

The PyPI package ``dynamo-size`` estimates sizes too, but counts characters instead of UTF-8 bytes,
takes Python values rather than the wire form and is unmaintained since 2020: the rules fit in a page.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.accesses import Access, KeyNames, WireItem, accesses_of
from bench.request_log import SentRequest

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
CONTAINER_BYTES = 3
"""A list or a map costs 3 bytes, plus 1 byte per element."""
TRANSACTIONAL = 2.0
STRONGLY_CONSISTENT = 1.0
EVENTUALLY_CONSISTENT = 0.5
PARTITION_WRITE_UNITS_PER_S = 1000
PARTITION_READ_UNITS_PER_S = 3000
"""What one partition serves a second, whatever the table's mode or provisioned capacity."""


def item_size(item: WireItem) -> int:
    return sum(_text_size(name) + attribute_size(value) for name, value in item.items())


def attribute_size(value: Mapping[str, Any]) -> int:
    (kind, content), *_ = value.items()
    if kind == "S":
        return _text_size(content)
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(base64.b64decode(content))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_text_size(text) for text in content)
    if kind == "NS":
        return sum(number_size(number) for number in content)
    if kind == "BS":
        return sum(len(base64.b64decode(blob)) for blob in content)
    if kind == "L":
        return CONTAINER_BYTES + sum(1 + attribute_size(element) for element in content)
    if kind == "M":
        return CONTAINER_BYTES + sum(1 + _text_size(name) + attribute_size(v) for name, v in content.items())
    raise ValueError(f"not a DynamoDB attribute value: {value!r}")


def number_size(text: str) -> int:
    """1 byte per two significant digits (leading and trailing zeros trimmed), plus 1."""
    digits = Decimal(text).normalize().as_tuple().digits
    return math.ceil(max(1, len(digits)) / 2) + 1


@dataclass(frozen=True)
class Units:
    write: float = 0.0
    read: float = 0.0

    def __add__(self, other: Units) -> Units:
        return Units(self.write + other.write, self.read + other.read)

    def per(self, count: int) -> Units:
        return Units(self.write / count, self.read / count)


def record_id(table: str, key: WireItem) -> str:
    """One name per record: its table and its key."""
    return f"{table}:{json.dumps(key, sort_keys=True)}"


def units_of(access: Access, stored_size: int) -> Units:
    """``stored_size``: the record's size as it is stored (0 when there is none)."""
    size = max(stored_size, item_size(access.item) if access.item is not None else 0)
    if access.write:
        per_unit = TRANSACTIONAL if access.transactional else 1.0
        return Units(write=per_unit * _units(size, WRITE_UNIT_BYTES))
    if access.transactional:
        per_unit = TRANSACTIONAL
    else:
        per_unit = STRONGLY_CONSISTENT if access.consistent else EVENTUALLY_CONSISTENT
    return Units(read=per_unit * _units(size, READ_UNIT_BYTES))


@dataclass(frozen=True)
class Priced:
    access: Access
    units: Units


def priced(
    requests: Sequence[SentRequest], key_names: KeyNames, stored_sizes: Mapping[str, int]
) -> list[Priced]:
    """Every record access of ``requests`` with its units. ``stored_sizes``: :func:`record_id` -> bytes.

    The sizes are those of the records once the requests are done. Here records only grow (a count,
    a timestamp, a status), so that is the larger of before and after for a write, and at most a few
    bytes more than a read saw: the same units unless a record sits within bytes of a boundary.
    """
    return [
        Priced(access, units_of(access, stored_sizes.get(record_id(access.table, access.key), 0)))
        for request in requests
        for access in accesses_of(request, key_names)
    ]


def per_item_ceiling(item_record_per_share: Units) -> tuple[float, str]:
    """Shares a second one item's partition can take, and the limit that binds (``writes``/``reads``).

    ``item_record_per_share``: the units one share spends on the item's own record, the only ones
    that land on the item's partition.
    """
    writes = _shares_per_s(PARTITION_WRITE_UNITS_PER_S, item_record_per_share.write)
    reads = _shares_per_s(PARTITION_READ_UNITS_PER_S, item_record_per_share.read)
    return min((writes, "writes"), (reads, "reads"))


def _shares_per_s(units_per_s: int, units_per_share: float) -> float:
    return units_per_s / units_per_share if units_per_share else math.inf


def _text_size(text: str) -> int:
    return len(text.encode())


def _units(size: int, unit_bytes: int) -> int:
    return max(1, math.ceil(size / unit_bytes))
