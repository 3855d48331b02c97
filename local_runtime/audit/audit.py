"""One audit: the scan for candidates, their confirmation and, when asked, their repair."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_runtime.audit.confirmation import confirm
from local_runtime.audit.drift import DRIFTING, NEEDS_ATTENTION, Finding, Status, compare
from local_runtime.audit.lease import Lease, repair_lease
from local_runtime.audit.ledger_scan import ScanProgress, scan_counts
from local_runtime.audit.repair import Outcome, repair
from services.dynamodb_service import DynamoDBService

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class AuditRequest:
    segments: int = 4
    item_ids: Collection[str] | None = None
    """Only these items: their candidates go straight to confirmation, without the first scan."""
    repair: bool = False
    only: Status | None = None
    """Repair only this direction (``OVER_COUNTED`` or ``UNDER_COUNTED``)."""


@dataclass(frozen=True)
class Row:
    """A finding that is not ``ok`` and what the audit did with it."""

    finding: Finding
    outcome: Outcome


@dataclass(frozen=True)
class AuditResult:
    items_checked: int
    """Items with a record or feed entries that the audit compared."""
    rows: list[Row]

    @property
    def left_drifting(self) -> list[Row]:
        """Rows whose count is wrong, or needs a person, after the audit: exit status 1."""
        return [
            row
            for row in self.rows
            if row.finding.status in NEEDS_ATTENTION and row.outcome is not Outcome.REPAIRED
        ]

    @property
    def not_found(self) -> list[str]:
        return [row.finding.item_id for row in self.rows if row.finding.status is Status.NOT_FOUND]


def audit(
    table: DynamoDBService, client: DynamoDBClient, request: AuditRequest, progress: ScanProgress
) -> AuditResult:
    """A repair holds the lease from its first read to its last write; a dry run needs none."""
    with repair_lease(table) if request.repair else nullcontext() as lease:
        if request.item_ids is None:
            first = compare(scan_counts(client, table.table_name, request.segments, progress("scanning")))
            checked: int | None = len(first)
            candidates = [finding.item_id for finding in first if finding.status is not Status.OK]
        else:
            checked, candidates = None, list(request.item_ids)
        findings = confirm(table, client, candidates, request.segments, progress)
        rows = [
            Row(finding, _outcome(table, request, finding, lease))
            for finding in findings
            if finding.status is not Status.OK
        ]
    found = [finding for finding in findings if finding.status is not Status.NOT_FOUND]
    return AuditResult(len(found) if checked is None else checked, rows)


def _outcome(table: DynamoDBService, request: AuditRequest, finding: Finding, lease: Lease | None) -> Outcome:
    if finding.status is Status.CHANGED_DURING_AUDIT or (finding.status in DRIFTING and not finding.stable):
        return Outcome.CHANGED_DURING_AUDIT
    if finding.status not in DRIFTING:
        return Outcome.NEVER_REPAIRED
    if request.only is not None and finding.status is not request.only:
        return Outcome.EXCLUDED
    if lease is None:
        return Outcome.DRY_RUN
    lease.check()
    return repair(table.table, finding)
