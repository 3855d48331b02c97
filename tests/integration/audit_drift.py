"""A stack whose counts drift the realistic way, for the ``share-worker audit`` tests.

The naive design (:mod:`testkit.naive_worker`) applies a workload in which some messages are
delivered twice, then an operator edits a few items by hand and deletes one.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_runtime.cli.main import main
from local_runtime.stack.provision import item_record
from local_runtime.stack.template import TEMPLATE_PATH, Stack, load_template
from services.dynamodb_service import DynamoDBService
from services.keys import item_key
from testkit.naive_worker import apply_naively
from testkit.reliability import scan_all
from tests.cli_process import share_worker
from tests.factories import share_body

SHARES = {"item-a": 2, "item-b": 3, "item-c": 3, "item-d": 1, "item-e": 2, "item-f": 2, "item-gone": 2}
"""Distinct share events per item."""
REDELIVERED = {"item-a": 1, "item-b": 2}
"""How many of an item's events the naive design receives a second time."""
EXPECTED_DRIFT = {
    "item-a": ("over-counted", 3, 2),
    "item-b": ("over-counted", 5, 3),
    "item-c": ("under-counted", 0, 3),
    "item-d": ("over-counted", 6, 1),
    "item-f": ("under-counted", None, 2),
    "item-gone": ("no item record", None, 2),
}
"""``(status, SharedCount, feed entries)`` of each item the audit must report: a and b from
redeliveries, c and d edited by hand (set to 0, raised by 5), f's count removed, and item-gone
deleted after its shares; item-e is right."""


@dataclass
class DriftingStack:
    name: str
    table_name: str

    @property
    def options(self) -> list[str]:
        return ["--stack", self.name]

    def audit(self, *arguments: str) -> tuple[int, str]:
        done = share_worker(*self.options, "audit", "--quiet", *arguments)
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, done.stdout

    def report(self, tmp_path: Path, *arguments: str) -> tuple[int, dict[str, Any]]:
        path = tmp_path / f"report-{uuid.uuid4().hex[:6]}.json"
        status, _ = self.audit("--output", str(path), *arguments)
        return status, json.loads(path.read_text())

    def shared_count(self, item_id: str) -> Any:
        record = boto3.resource("dynamodb").Table(self.table_name).get_item(Key=item_key(item_id))
        return record.get("Item", {}).get("SharedCount")

    def feed_entries(self) -> list[dict[str, Any]]:
        records = scan_all(boto3.resource("dynamodb").Table(self.table_name))
        return [record for record in records if str(record["PK"]).startswith("USER#")]

    def ledger(self) -> Counter[str]:
        return Counter(str(entry["ItemId"]) for entry in self.feed_entries())


def reported(report: dict[str, Any]) -> dict[str, tuple[str, Any, int]]:
    return {
        row["item_id"]: (row["status"], row["shared_count"], row["ledger_count"]) for row in report["items"]
    }


def provision_drifting_stack(capsys: pytest.CaptureFixture[str]) -> DriftingStack:
    name = f"audit-{uuid.uuid4().hex[:10]}"
    assert main(["--stack", name, "provision"]) == 0
    capsys.readouterr()
    stack = DriftingStack(
        name,
        Stack(
            load_template(TEMPLATE_PATH), name, boto3.session.Session().region_name or "us-east-1"
        ).table_name(),
    )
    table = boto3.resource("dynamodb").Table(stack.table_name)
    for item_id in SHARES:
        table.put_item(
            Item=item_record({"itemId": item_id, "name": item_id, "ownerId": "u1", "isPublic": True})
        )
    bodies: list[str] = []
    for item_id, shares in SHARES.items():
        events = [share_body(item_id, f"u{n}", shared_at=f"2025-11-13T10:0{n}:00Z") for n in range(shares)]
        bodies += events + events[: REDELIVERED.get(item_id, 0)]
    apply_naively(DynamoDBService(stack.table_name), bodies)
    table.update_item(
        Key=item_key("item-c"),
        UpdateExpression="SET SharedCount = :zero",
        ExpressionAttributeValues={":zero": 0},
    )
    table.update_item(
        Key=item_key("item-d"),
        UpdateExpression="ADD SharedCount :five",
        ExpressionAttributeValues={":five": 5},
    )
    table.update_item(Key=item_key("item-f"), UpdateExpression="REMOVE SharedCount")
    table.delete_item(Key=item_key("item-gone"))
    return stack
