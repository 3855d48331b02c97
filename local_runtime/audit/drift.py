"""What the audit finds for one item: its ``SharedCount``, its ledger count, and the drift between them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from local_runtime.audit.counts import Count, Malformed
from local_runtime.audit.ledger_scan import TableCounts


class Status(StrEnum):
    OK = "ok"
    OVER_COUNTED = "over-counted"
    UNDER_COUNTED = "under-counted"
    CHANGED_DURING_AUDIT = "changed during audit"
    """The item took shares while it was confirmed and its drift may be 0: not known to be wrong."""
    MALFORMED_COUNT = "malformed count"
    """``SharedCount`` is not an integer: reported, never repaired, and it needs a person (exit 1)."""
    NO_ITEM_RECORD = "no item record"
    """Feed entries of an item whose record is gone (a deleted item): reported, never repaired."""
    NOT_FOUND = "not found"
    """An id named with ``--items`` that has neither a record nor feed entries."""


DRIFTING = frozenset({Status.OVER_COUNTED, Status.UNDER_COUNTED})
NEEDS_ATTENTION = DRIFTING | {Status.MALFORMED_COUNT}
"""Statuses that make the exit status 1 unless the count was repaired."""


@dataclass(frozen=True)
class Finding:
    """One item as the audit saw it: ``shared_count`` read before its ledger was counted and
    ``shared_count_after`` read after (the same value for the first scan, which reads once).

    Counts only grow while an audit runs (the worker only adds; repairs exclude each other with a
    lease and nothing else may lower a count, see the README), and each share adds 1 to the count
    and one feed entry. So a share landing between the two reads is either counted in the ledger or
    not, and the drift, which shares do not change, lies in ``drift_bounds``."""

    item_id: str
    shared_count: Count
    ledger_count: int
    shared_count_after: Count
    has_record: bool = True
    has_record_after: bool = True
    """The record was still there at the second read: one deleted in between has no drift to speak of."""

    @property
    def stable(self) -> bool:
        """The count did not change while the ledger was counted: ``shared_count`` is the value a
        repair may be conditioned on, and the drift is exact."""
        return self.shared_count == self.shared_count_after

    @property
    def drift_bounds(self) -> tuple[int, int] | None:
        """The least and the most the count can be above (positive) its ledger; ``None`` when there
        is no drift to speak of (no record, a malformed count)."""
        seen, after = self.shared_count, self.shared_count_after
        if (
            not (self.has_record and self.has_record_after)
            or isinstance(seen, Malformed)
            or isinstance(after, Malformed)
        ):
            return None
        return (seen or 0) - self.ledger_count, (after or 0) - self.ledger_count

    @property
    def drift(self) -> int | None:
        """The exact drift, when known (the count was stable and is a number)."""
        bounds = self.drift_bounds
        return bounds[0] if bounds is not None and bounds[0] == bounds[1] else None

    @property
    def status(self) -> Status:
        if not self.has_record:
            return Status.NO_ITEM_RECORD if self.ledger_count else Status.NOT_FOUND
        if not self.has_record_after:
            return Status.NO_ITEM_RECORD  # deleted during the audit: never repaired
        bounds = self.drift_bounds
        if bounds is None:
            return Status.MALFORMED_COUNT
        least, most = bounds
        if least > 0:
            return Status.OVER_COUNTED
        if most < 0:
            return Status.UNDER_COUNTED
        return Status.OK if least == most == 0 else Status.CHANGED_DURING_AUDIT


def compare(counts: TableCounts) -> list[Finding]:
    """A finding for every item with a record or feed entries, sorted by item id."""
    return [
        Finding(
            item_id,
            counts.shared_counts.get(item_id),
            counts.ledger[item_id],
            counts.shared_counts.get(item_id),
            has_record=item_id in counts.shared_counts,
            has_record_after=item_id in counts.shared_counts,
        )
        for item_id in sorted(set(counts.shared_counts) | set(counts.ledger))
    ]
