"""The audit's CSV report: cells a spreadsheet would run as formulas are quoted, JSON is as read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from local_runtime.audit.audit import AuditResult, Row
from local_runtime.audit.counts import Malformed
from local_runtime.audit.drift import Finding
from local_runtime.audit.repair import Outcome
from local_runtime.audit.report import write_report

FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def result(*item_ids: str) -> AuditResult:
    rows = [Row(Finding(item_id, 3, 2, 3), Outcome.DRY_RUN) for item_id in item_ids]
    return AuditResult(
        len(rows), [*rows, Row(Finding("m", Malformed("-2.5"), 2, Malformed("-2.5")), Outcome.NEVER_REPAIRED)]
    )


@pytest.mark.parametrize("item_id", FORMULAS)
def test_a_csv_cell_that_starts_a_formula_is_quoted(tmp_path: Path, item_id: str) -> None:
    path = tmp_path / "report.csv"

    write_report(result(item_id), path)

    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["item_id"] for row in rows] == ["'" + item_id, "m"]
    assert (rows[0]["drift"], rows[1]["shared_count"]) == ("1", "'-2.5")  # numbers stay numbers


def test_the_json_report_keeps_values_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "report.json"

    write_report(result(*FORMULAS), path)

    assert [row["item_id"] for row in json.loads(path.read_text())["items"]] == [*FORMULAS, "m"]
