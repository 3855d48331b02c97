"""The comparison of each item's ``SharedCount`` with its ledger count, and what it finds."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from local_runtime.audit.ledger_scan import TableCounts


class Status(StrEnum):
    OK = "ok"
    OVER_COUNTED = "over-counted"
    UNDER_COUNTED = "under-counted"
    NO_ITEM_RECORD = "no item record"
    """Feed entries of an item whose record is gone (a deleted item): reported, never repaired."""


DRIFTING = frozenset({Status.OVER_COUNTED, Status.UNDER_COUNTED})


@dataclass(frozen=True)
class Finding:
    """One item as the audit saw it. ``shared_count`` is ``None`` when the record has no
    ``SharedCount``, which the worker's ``ADD`` reads as 0, and so does the audit."""

    item_id: str
    shared_count: int | None
    ledger_count: int
    has_record: bool = True

    @property
    def drift(self) -> int:
        """How far the count is above (positive) or below (negative) its ledger."""
        return (self.shared_count or 0) - self.ledger_count if self.has_record else 0

    @property
    def status(self) -> Status:
        if not self.has_record:
            return Status.NO_ITEM_RECORD
        if self.drift > 0:
            return Status.OVER_COUNTED
        return Status.UNDER_COUNTED if self.drift < 0 else Status.OK


def compare(counts: TableCounts, item_ids: Collection[str] | None = None) -> list[Finding]:
    """A finding for every item with a record or feed entries (of ``item_ids`` only, when given),
    sorted by item id."""
    ids = set(counts.shared_counts) | set(counts.ledger) if item_ids is None else set(item_ids)
    return [
        Finding(
            item_id,
            counts.shared_counts.get(item_id),
            counts.ledger[item_id],
            has_record=item_id in counts.shared_counts,
        )
        for item_id in sorted(ids)
        if item_id in counts.shared_counts or counts.ledger[item_id]
    ]
