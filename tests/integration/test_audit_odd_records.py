"""The audit against records the worker would never write (a count that is not an integer, an item
record without ``ItemId``), ids that name nothing, and AWS calls that fail halfway: each is reported
or exits 2, never a traceback, never a repair that cannot be right."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from local_runtime.audit.counts import Malformed
from local_runtime.audit.drift import Status
from local_runtime.audit.repair import Outcome
from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli.main import main
from services.dynamodb_service import DynamoDBService
from services.errors import DeadlineApproaching
from services.keys import item_key
from tests.conftest import ShareTable
from tests.integration.audit_drift import DriftingStack, provision_drifting_stack
from tests.integration.audit_item import (
    ITEM,
    count_of,
    ledger_of,
    run_audit,
    set_count,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("value", "shown"), [("5", "'5'"), ("many", "'many'"), (Decimal("2.5"), "2.5"), (True, "True")]
)
def test_a_count_that_is_not_an_integer_is_malformed_and_never_repaired(
    share_table: ShareTable, item_shares: Callable[[int], None], value: Any, shown: str
) -> None:
    item_shares(3)
    set_count(share_table, value)
    service = DynamoDBService(share_table.name)

    for items in (None, [ITEM]):  # the first scan's parsing and the confirmation's agree
        result = run_audit(service, repair=True, item_ids=items)
        assert [(row.finding.status, row.finding.shared_count, row.outcome) for row in result.rows] == [
            (Status.MALFORMED_COUNT, Malformed(shown), Outcome.NEVER_REPAIRED)
        ]
        assert result.left_drifting == result.rows  # exit status 1: a person decides
    assert count_of(share_table) == value


def test_an_item_record_without_item_id_is_audited_by_its_key(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    item_shares(3)
    share_table.table.update_item(
        Key=item_key(ITEM), UpdateExpression="SET SharedCount = :nine REMOVE ItemId",
        ExpressionAttributeValues={":nine": 9},
    )  # fmt: skip
    service = DynamoDBService(share_table.name)

    listed = run_audit(service, item_ids=[ITEM])
    repaired = run_audit(service, repair=True)

    assert [(row.finding.item_id, row.finding.drift) for row in listed.rows] == [(ITEM, 6)]
    assert [(row.finding.item_id, row.outcome) for row in repaired.rows] == [(ITEM, Outcome.REPAIRED)]
    assert count_of(share_table) == ledger_of(share_table) == 3


def test_ids_that_name_nothing_are_not_found_and_not_counted_as_checked(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    item_shares(2)

    result = run_audit(DynamoDBService(share_table.name), item_ids=["nope-2", ITEM, "nope-1"])

    assert result.items_checked == 1
    assert result.not_found == ["nope-1", "nope-2"]
    assert [(row.finding.item_id, row.finding.status, row.outcome) for row in result.rows] == [
        ("nope-1", Status.NOT_FOUND, Outcome.NEVER_REPAIRED),
        ("nope-2", Status.NOT_FOUND, Outcome.NEVER_REPAIRED),
    ]
    assert result.left_drifting == []


@pytest.fixture
def drifting(aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]) -> DriftingStack:
    return provision_drifting_stack(capsys)


def test_a_malformed_count_exits_1_and_is_reported(drifting: DriftingStack, tmp_path: Path) -> None:
    boto3.resource("dynamodb").Table(drifting.table_name).update_item(
        Key=item_key("item-e"), UpdateExpression="SET SharedCount = :many",
        ExpressionAttributeValues={":many": "many"},
    )  # fmt: skip

    status, report = drifting.report(tmp_path, "--repair")

    assert status == 1
    (row,) = [row for row in report["items"] if row["item_id"] == "item-e"]
    assert (row["status"], row["shared_count"], row["drift"], row["outcome"]) == (
        "malformed count",
        "'many'",
        None,
        "never repaired",
    )
    assert report["summary"]["malformed count"] == 1
    assert drifting.shared_count("item-e") == "many"


@pytest.fixture
def failing_call() -> Iterator[Callable[[str, Exception], None]]:
    """Makes every later request of one operation, on clients created after, raise ``error``."""

    def fail(operation: str, error: Exception) -> None:
        def hook(**_: Any) -> None:
            raise error

        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register(f"before-send.dynamodb.{operation}", hook)

    yield fail
    boto3.setup_default_session()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "nothing answers at http://127.0.0.1:9"),
        (DeadlineApproaching("no time"), "the audit could not finish: DeadlineApproaching: no time"),
        (RuntimeError("a bug"), "the audit could not finish: RuntimeError: a bug"),
    ],
)
def test_an_aws_call_failing_after_the_first_scan_exits_2_with_one_line(
    drifting: DriftingStack,
    failing_call: Callable[[str, Exception], None],
    capsys: pytest.CaptureFixture[str],
    error: Exception,
    message: str,
) -> None:
    """In this process, for the hook (the installed entry point is main in a process of its own):
    ``BatchGetItem`` of the confirmation fails, wrapped by ``DynamoDBService`` or not."""
    failing_call("BatchGetItem", error)

    status = main([*drifting.options, "audit", "--quiet"])

    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("share-worker: ") and message in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_the_report_of_unknown_ids_lists_them(drifting: DriftingStack, tmp_path: Path) -> None:
    status, report = drifting.report(tmp_path, "--items", "item-a,nope")

    assert status == 1
    assert (report["summary"]["items checked"], report["summary"]["not found"]) == (1, ["nope"])
    assert json.dumps(report["items"][-1]["status"]) == '"not found"'
