"""One audit: the scan for candidates, their confirmation and, when asked, their repair."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_runtime.audit.confirmation import confirm
from local_runtime.audit.drift import DRIFTING, Finding, Status, compare
from local_runtime.audit.ledger_scan import Progress, scan_counts
from local_runtime.audit.repair import LEFT_DRIFTING, Outcome, repair
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
    rows: list[Row]

    @property
    def left_drifting(self) -> list[Row]:
        return [row for row in self.rows if row.outcome in LEFT_DRIFTING]


def audit(
    table: DynamoDBService, client: DynamoDBClient, request: AuditRequest, on_page: Progress
) -> AuditResult:
    if request.item_ids is None:
        findings = compare(scan_counts(client, table.table_name, request.segments, on_page))
        checked = len(findings)
        candidates = [finding.item_id for finding in findings if finding.status is not Status.OK]
    else:
        checked, candidates = len(request.item_ids), list(request.item_ids)
    rows = [
        Row(entry.finding, _outcome(table, request, entry.finding, entry.stable))
        for entry in confirm(table, client, candidates, request.segments)
        if entry.finding.status is not Status.OK or not entry.stable
    ]
    return AuditResult(checked, rows)


def _outcome(table: DynamoDBService, request: AuditRequest, finding: Finding, stable: bool) -> Outcome:
    if not stable:
        return Outcome.CHANGED_DURING_AUDIT
    if finding.status not in DRIFTING:
        return Outcome.NEVER_REPAIRED
    if request.only is not None and finding.status is not request.only:
        return Outcome.EXCLUDED
    return repair(table.table, finding) if request.repair else Outcome.DRY_RUN
