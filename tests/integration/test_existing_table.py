"""The worker on the app's own table (``ExistingTableName``), on the embedded server over HTTP."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import boto3
import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli.main import main
from local_runtime.stack.provision import MissingTable, create_table, provision
from local_runtime.stack.template import Stack
from tests.local_stack import local_stack, share

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.literals import ScalarAttributeTypeType

pytestmark = pytest.mark.integration


def table_names() -> set[str]:
    return set(boto3.client("dynamodb").list_tables()["TableNames"])


@pytest.fixture
def app_table(aws: EmbeddedAws) -> str:
    """The app's table, made first, as the app's own stack makes it: string PK/SK, TTL on ExpiresAt."""
    name = f"wardrobe-{uuid.uuid4().hex[:10]}"
    create_table(boto3.client("dynamodb"), name)
    return name


def test_the_loop_runs_on_the_app_s_table_and_the_stack_creates_no_table(app_table: str) -> None:
    before = table_names()

    with local_stack(ExistingTableName=app_table) as local:
        local.send(
            share("test-item", "user123", "e-app-1"),
            share("01JCWXYZ8Q4KTV3M9N2P5R7S6A", "user789", "e-app-2"),
            share("no-such-item", "user123", "e-app-3"),
        )
        stats, _ = local.drain(function=local.function(handler="handler.lambda_handler"))

    assert table_names() == before
    assert local.resources.table_name == local.stack.function().environment["TABLE_NAME"] == app_table
    assert (stats.deleted, stats.failed_records) == (3, 0)
    test_item, public_item = local.table.item("test-item"), local.table.item("01JCWXYZ8Q4KTV3M9N2P5R7S6A")
    assert test_item is not None and (test_item["SharedCount"], test_item["IsPublic"]) == (1, True)
    assert public_item is not None and public_item["SharedCount"] == 5
    assert sorted(record["EventId"] for record in local.table.records_with_prefix("EVENT#")) == [
        "e-app-1",
        "e-app-2",
    ]
    assert len(local.table.records_with_prefix("USER#")) == 2


def test_provisioning_on_an_app_table_that_is_not_there_creates_nothing_and_says_why(
    aws: EmbeddedAws,
) -> None:
    stack = Stack(name=f"test-{uuid.uuid4().hex[:10]}", overrides={"ExistingTableName": "no-such-app-table"})
    sqs = boto3.client("sqs")

    with pytest.raises(MissingTable, match="ExistingTableName 'no-such-app-table': no such table"):
        provision(stack, boto3.client("dynamodb"), sqs)

    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=stack.name)


def foreign_table(**key_types: ScalarAttributeTypeType) -> str:
    """A table not made for the worker, with these keys (partition key first) of these types, no TTL."""
    name = f"foreign-{uuid.uuid4().hex[:10]}"
    boto3.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": key, "AttributeType": kind} for key, kind in key_types.items()
        ],
        KeySchema=[
            {"AttributeName": key, "KeyType": "RANGE" if index else "HASH"}
            for index, key in enumerate(key_types)
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def check_table(table_name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["--param", f"ExistingTableName={table_name}", "check-table"])
    return status, capsys.readouterr().out


def test_check_table_passes_a_table_with_the_worker_s_keys_and_ttl(
    app_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = check_table(app_table, capsys)

    assert status == 0
    assert report.count(" ok ") == 3
    assert report.rstrip().endswith(f"{app_table} has what the worker needs.")


def test_check_table_says_plainly_what_a_foreign_table_lacks(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    name = foreign_table(id="N")

    status, report = check_table(name, capsys)

    assert status == 1
    rows = [" ".join(line.split()) for line in report.splitlines()]
    assert "partition key PK (string) MISSING id (number)" in rows
    assert "sort key SK (string) MISSING no sort key" in rows
    assert "TTL on ExpiresAt MISSING TTL disabled" in rows
    assert "- The table's partition key is id (number), not PK." in report
    assert "- The table has no sort key." in report
    assert (
        "- TTL is not on ExpiresAt: the worker still runs, but its dedup markers are never deleted." in report
    )


def test_check_table_finds_ttl_on_another_attribute(
    app_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client("dynamodb")
    client.update_time_to_live(
        TableName=app_table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "ExpiresAt"}
    )
    client.update_time_to_live(
        TableName=app_table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )

    status, report = check_table(app_table, capsys)

    assert status == 1
    assert "TTL on ExpiresAt MISSING TTL enabled on ttl" in [
        " ".join(line.split()) for line in report.splitlines()
    ]
    assert (
        "- TTL is on ttl, and a table has one TTL attribute: DynamoDB refuses to enable it on ExpiresAt as "
        "well, and moving it to ExpiresAt would stop the app's own items expiring. The worker writes the "
        "expiry of its dedup markers in ExpiresAt, so on this table they never expire" in report
    )
    assert "update-time-to-live" not in report


def test_check_table_tells_a_key_of_the_wrong_type_from_a_missing_one(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    name = foreign_table(PK="N", SK="S")

    status, report = check_table(name, capsys)

    assert status == 1
    assert "- The table's partition key PK is a number, not a string." in report
    assert "sort key" not in report.split("\n\n", 1)[1]


def test_check_table_on_a_table_that_is_not_there(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = check_table("never-created", capsys)

    assert status == 1
    assert (
        "- ExistingTableName 'never-created': no such table on this endpoint; the app's stack creates it"
        in (report)
    )


def test_check_table_on_the_stack_s_own_table_that_is_not_there_says_the_stack_creates_it(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = f"test-{uuid.uuid4().hex[:10]}"

    status = main(["--stack", stack, "check-table"])

    assert status == 1
    assert (
        f"- table '{stack}-shares' of stack '{stack}' is not there: the stack creates it"
        in capsys.readouterr().out
    )


def test_run_refuses_to_start_on_an_app_table_that_is_not_there(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = f"test-{uuid.uuid4().hex[:10]}"
    assert main(["--stack", stack, "provision"]) == 0
    capsys.readouterr()

    status = main(["--stack", stack, "--param", "ExistingTableName=never-created", "run", "--until-drained"])

    error = capsys.readouterr().err
    assert status == 1
    assert error.startswith("share-worker: ExistingTableName 'never-created': no such table on this endpoint")
    assert error.count("\n") == 1


def test_run_refuses_to_start_when_the_stack_s_own_table_is_gone(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = f"test-{uuid.uuid4().hex[:10]}"
    assert main(["--stack", stack, "provision"]) == 0
    boto3.client("dynamodb").delete_table(TableName=f"{stack}-shares")
    capsys.readouterr()

    status = main(["--stack", stack, "run", "--until-drained"])

    error = capsys.readouterr().err
    assert status == 1
    assert error == (
        f"share-worker: table '{stack}-shares' of stack '{stack}' is not there: the stack creates it "
        "(`share-worker provision`, or `share-worker serve` locally); check --stack and the region\n"
    )
