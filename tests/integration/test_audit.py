"""``share-worker audit`` (the installed entry point, in a process of its own) against drift made the
realistic way: the naive design with redelivered messages, and hand edits."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from tests.cli_process import share_worker
from tests.integration.audit_drift import (
    EXPECTED_DRIFT,
    SHARES,
    DriftingStack,
    provision_drifting_stack,
    reported,
)

pytestmark = pytest.mark.integration

REPAIRABLE = {item_id for item_id, (status, _, _) in EXPECTED_DRIFT.items() if status != "no item record"}


@pytest.fixture
def drifting(aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]) -> DriftingStack:
    return provision_drifting_stack(capsys)


def test_audit_reports_exactly_the_drifting_items_and_amounts(
    drifting: DriftingStack, tmp_path: Path
) -> None:
    status, report = drifting.report(tmp_path, "--segments", "3")

    assert status == 1
    assert reported(report) == EXPECTED_DRIFT
    assert {row["item_id"]: row["drift"] for row in report["items"]} == {
        "item-a": 1,
        "item-b": 2,
        "item-c": -3,
        "item-d": 5,
        "item-f": -2,
        "item-gone": None,
    }
    assert report["summary"] == {
        "items checked": len(SHARES),
        "over-counted": 3,
        "under-counted": 2,
        "total drift up": 8,
        "total drift down": 5,
        "malformed count": 0,
        "no item record": 1,
        "not found": [],
        "undetermined (changed during every round)": 0,
        "dry run": 5,
        "never repaired": 1,
    }
    assert drifting.shared_count("item-a") == 3  # a dry run changes nothing


def test_audit_writes_the_same_rows_as_csv(drifting: DriftingStack, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"

    status, stdout = drifting.audit("--output", str(path))

    assert status == 1
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(row["item_id"], row["status"], row["shared_count"], row["ledger_count"]) for row in rows] == [
        (item_id, status_, "" if count is None else str(count), str(ledger))
        for item_id, (status_, count, ledger) in EXPECTED_DRIFT.items()
    ]
    assert "items checked" in stdout and f"report: {path}" in stdout


def test_repair_sets_each_count_to_its_ledger_and_a_second_audit_finds_nothing(
    drifting: DriftingStack, tmp_path: Path
) -> None:
    status, report = drifting.report(tmp_path, "--repair")

    assert status == 0
    assert {row["item_id"]: row["outcome"] for row in report["items"]} == {
        **dict.fromkeys(REPAIRABLE, "repaired"),
        "item-gone": "never repaired",
    }
    ledger = drifting.ledger()
    assert {item_id: drifting.shared_count(item_id) for item_id in SHARES} == {
        **{item_id: ledger[item_id] for item_id in SHARES},
        "item-gone": None,
    }
    again, second = drifting.report(tmp_path, "--repair")
    assert again == 0
    assert [(row["item_id"], row["outcome"]) for row in second["items"]] == [("item-gone", "never repaired")]
    assert drifting.audit()[0] == 0


def test_only_repairs_one_direction_and_leaves_the_other_drifting(
    drifting: DriftingStack, tmp_path: Path
) -> None:
    status, report = drifting.report(tmp_path, "--repair", "--only", "over-counted")

    assert status == 1
    outcomes = {row["item_id"]: row["outcome"] for row in report["items"]}
    assert outcomes == {
        "item-a": "repaired",
        "item-b": "repaired",
        "item-d": "repaired",
        "item-c": "excluded by --only",
        "item-f": "excluded by --only",
        "item-gone": "never repaired",
    }
    assert (drifting.shared_count("item-c"), drifting.shared_count("item-f")) == (0, None)

    status, report = drifting.report(tmp_path, "--repair", "--only", "under-counted")
    assert status == 0
    assert {row["item_id"]: row["outcome"] for row in report["items"] if row["outcome"] == "repaired"} == {
        "item-c": "repaired",
        "item-f": "repaired",
    }
    assert (drifting.shared_count("item-c"), drifting.shared_count("item-f")) == (3, 2)


def test_items_restricts_the_audit_and_the_repair_to_the_items_named(
    drifting: DriftingStack, tmp_path: Path
) -> None:
    status, report = drifting.report(tmp_path, "--items", "item-a,item-e", "--repair")

    assert status == 0
    assert reported(report) == {"item-a": ("over-counted", 3, 2)}
    assert report["summary"]["items checked"] == 2
    assert (drifting.shared_count("item-a"), drifting.shared_count("item-b")) == (2, 5)


def test_audit_that_cannot_run_exits_2(aws: EmbeddedAws, tmp_path: Path) -> None:
    missing = share_worker("--stack", "audit-not-there", "audit", "--quiet")
    bad_report = share_worker("audit", "--output", str(tmp_path / "report.txt"))

    assert (missing.returncode, missing.stdout) == (2, "")
    assert "share-worker: stack 'audit-not-there' is not there" in missing.stderr
    assert bad_report.returncode == 2
    assert "the report is .json or .csv" in bad_report.stderr
