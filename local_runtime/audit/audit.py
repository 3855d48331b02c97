"""One audit: the scan for candidates, their confirmation and, when asked, their repair."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_runtime.audit.confirmation import confirm
from local_runtime.audit.drift import DRIFTING, NEEDS_ATTENTION, Finding, Status, compare
from local_runtime.audit.lease import Lease, LeaseLost, repair_lease
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
    lease_lost: bool = False
    """The repair lost its lease (rows not yet written are ``lease lost``): exit status 2."""

    @property
    def left_drifting(self) -> list[Row]:
        """Rows whose count is wrong, or needs a person, after the audit: exit status 1."""
        return [
            row
            for row in self.rows
            if row.finding.status in NEEDS_ATTENTION and row.outcome is not Outcome.REPAIRED
        ]

    @property
    def undetermined(self) -> list[Row]:
        """Rows that took shares during every confirmation round, so that their drift may be 0: not
        known to be wrong (not 1, which pages) nor right (not 0): exit status 3 unless something drifts."""
        return [row for row in self.rows if row.finding.status is Status.CHANGED_DURING_AUDIT]

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
        rows = _rows(
            table, request, [finding for finding in findings if finding.status is not Status.OK], lease
        )
    found = [finding for finding in findings if finding.status is not Status.NOT_FOUND]
    lost = lease is not None and lease.lost
    return AuditResult(len(found) if checked is None else checked, rows, lease_lost=lost)


def _rows(
    table: DynamoDBService, request: AuditRequest, findings: list[Finding], lease: Lease | None
) -> list[Row]:
    """One row per finding; once the lease is lost, the findings left are not repaired (``lease
    lost``), and the rows done so far are kept for the summary and the report."""
    rows: list[Row] = []
    for finding in findings:
        outcome = _outcome(request, finding)
        if outcome is None:
            if lease is None:
                outcome = Outcome.DRY_RUN
            else:
                try:
                    lease.check()
                    outcome = repair(table, lease, finding)
                except LeaseLost:
                    return rows + [Row(left, Outcome.LEASE_LOST) for left in findings[len(rows) :]]
        rows.append(Row(finding, outcome))
    return rows


def _outcome(request: AuditRequest, finding: Finding) -> Outcome | None:
    """What becomes of ``finding`` without a write; ``None`` when it is one to repair."""
    if finding.status is Status.CHANGED_DURING_AUDIT or (finding.status in DRIFTING and not finding.stable):
        return Outcome.CHANGED_DURING_AUDIT
    if finding.status not in DRIFTING:
        return Outcome.NEVER_REPAIRED
    if request.only is not None and finding.status is not request.only:
        return Outcome.EXCLUDED
    return None
