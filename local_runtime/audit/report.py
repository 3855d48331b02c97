"""The audit's summary for the terminal and its per-item report as JSON or CSV."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from local_runtime.audit.audit import AuditResult
from local_runtime.audit.counts import Malformed
from local_runtime.audit.drift import Status

COLUMNS = ("item_id", "shared_count", "ledger_count", "drift", "drift_min", "drift_max", "status", "outcome")
REPORT_SUFFIXES = (".json", ".csv")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP's list for CSV injection)."""


def report_rows(result: AuditResult) -> list[dict[str, Any]]:
    """One row per item that is not ``ok``: ``shared_count`` as seen (``None`` for a record without
    one, the value as read when malformed), ``drift`` when exact, else ``None``, and the range the
    drift is known to lie in (``None`` without a record or with a malformed count)."""
    rows = []
    for row in result.rows:
        finding, bounds = row.finding, row.finding.drift_bounds
        count = finding.shared_count
        rows.append(
            {
                "item_id": finding.item_id,
                "shared_count": str(count) if isinstance(count, Malformed) else count,
                "ledger_count": finding.ledger_count,
                "drift": finding.drift,
                "drift_min": None if bounds is None else bounds[0],
                "drift_max": None if bounds is None else bounds[1],
                "status": str(finding.status),
                "outcome": str(row.outcome),
            }
        )
    return rows


def summary(result: AuditResult) -> dict[str, int | list[str]]:
    """Counts by status and outcome; the drift totals are the least the drift is known to be."""
    statuses = Counter(row.finding.status for row in result.rows)
    outcomes = Counter(row.outcome for row in result.rows)
    up = [row.finding.drift_bounds for row in result.rows if row.finding.status is Status.OVER_COUNTED]
    down = [row.finding.drift_bounds for row in result.rows if row.finding.status is Status.UNDER_COUNTED]
    return {
        "items checked": result.items_checked,
        "over-counted": statuses[Status.OVER_COUNTED],
        "under-counted": statuses[Status.UNDER_COUNTED],
        "total drift up": sum(least for least, _ in filter(None, up)),
        "total drift down": -sum(most for _, most in filter(None, down)),
        "malformed count": statuses[Status.MALFORMED_COUNT],
        "no item record": statuses[Status.NO_ITEM_RECORD],
        "undetermined (changed during every round)": len(result.undetermined),
        "not found": result.not_found,
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
        writer.writerows({column: _inert(value) for column, value in row.items()} for row in rows)


def _inert(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, quoted so that it shows as text.

    Item ids come from the app's users (and a malformed count from anyone who edits the table): an id
    such as ``=HYPERLINK(...)`` would run when an operator opens the report in a spreadsheet. The
    leading ``'`` is what spreadsheets themselves use to mark text; numbers are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
