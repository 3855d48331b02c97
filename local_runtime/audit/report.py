"""The audit's summary for the terminal and its per-item report as JSON or CSV."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from local_runtime.audit.audit import AuditResult
from local_runtime.audit.drift import Status

COLUMNS = ("item_id", "shared_count", "ledger_count", "drift", "status", "outcome")
REPORT_SUFFIXES = (".json", ".csv")


def report_rows(result: AuditResult) -> list[dict[str, Any]]:
    """One row per item that is not ``ok`` (``shared_count`` is ``None`` for a record without one)."""
    return [
        {
            "item_id": row.finding.item_id,
            "shared_count": row.finding.shared_count,
            "ledger_count": row.finding.ledger_count,
            "drift": row.finding.drift,
            "status": str(row.finding.status),
            "outcome": str(row.outcome),
        }
        for row in result.rows
    ]


def summary(result: AuditResult) -> dict[str, int]:
    statuses = Counter(row.finding.status for row in result.rows)
    outcomes = Counter(row.outcome for row in result.rows)
    drifts = [row.finding.drift for row in result.rows]
    return {
        "items checked": result.items_checked,
        "over-counted": statuses[Status.OVER_COUNTED],
        "under-counted": statuses[Status.UNDER_COUNTED],
        "total drift up": sum(drift for drift in drifts if drift > 0),
        "total drift down": -sum(drift for drift in drifts if drift < 0),
        "no item record": statuses[Status.NO_ITEM_RECORD],
        **{str(outcome): count for outcome, count in sorted(outcomes.items())},
    }


def write_report(result: AuditResult, path: Path) -> None:
    """JSON (``{"summary": ..., "items": [...]}``) or CSV (the item rows), by ``path``'s suffix."""
    rows = report_rows(result)
    if path.suffix == ".json":
        path.write_text(json.dumps({"summary": summary(result), "items": rows}, indent=2) + "\n")
        return
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
