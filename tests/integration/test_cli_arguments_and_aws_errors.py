"""What ``share-worker`` says when it is given a bad argument or a missing AWS setup: the installed
entry point, in a process of its own, against the embedded server (or a closed port on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shlex
import uuid
from pathlib import Path

import boto3
import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.stack.provision import SAMPLES
from tests.cli_process import share_worker

pytestmark = pytest.mark.integration

CLOSED_PORT = "http://127.0.0.1:9"
FIX = "start `share-worker serve` in another shell and run the `export ...` line it prints"


@pytest.fixture
def stack(aws: EmbeddedAws) -> list[str]:
    """A provisioned and seeded stack of its own; the options that name it."""
    options = ["--stack", f"cli-{uuid.uuid4().hex[:10]}"]
    done = share_worker(*options, "provision", "--seed")
    assert done.returncode == 0, done.stderr
    return options


def queue_url(stack: list[str], suffix: str = "share-events") -> str:
    return boto3.client("sqs").get_queue_url(QueueName=f"{stack[1]}-{suffix}")["QueueUrl"]


def redrive_policy(stack: list[str]) -> dict[str, object]:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(stack), AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    policy: dict[str, object] = json.loads(attributes["RedrivePolicy"])
    return policy


def received_bodies(url: str) -> list[str]:
    sqs = boto3.client("sqs")
    bodies: list[str] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    ):
        bodies += [message["Body"] for message in batch]
    return bodies


def environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The test's environment without its AWS settings, with no config files and no instance metadata
    (nothing leaves the machine), plus ``variables``."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {
        **kept,
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        **variables,
    }


@pytest.fixture
def nowhere(tmp_path: Path) -> dict[str, str]:
    """boto3 configured for a closed port: a command that sends anything fails with exit status 1."""
    return environment(
        tmp_path,
        AWS_ENDPOINT_URL=CLOSED_PORT,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
    )


@pytest.mark.parametrize(
    ("arguments", "refused"),
    [
        (
            ["--param", "Nope=1", "provision"],
            "argument --param: the template has no parameter 'Nope'; its parameters: BatchSize, ",
        ),
        (
            ["provision", "--param", "MaxRecieveCount=5"],
            "argument --param: the template has no parameter 'MaxRecieveCount' "
            "(did you mean MaxReceiveCount?)",
        ),
        (
            ["provision", "--param", "MaxReceiveCount=0"],
            "argument --param: parameter MaxReceiveCount must be at least 1, got 0",
        ),
        (
            ["publish", "--count", "10", "--duplicate-ratio", "1.5"],
            "argument --duplicate-ratio: must be at least 0 and below 1, got 1.5",
        ),
        (
            ["publish", "--body", ""],
            "argument --body: a message body must have at least 1 character (SQS refuses an empty one)",
        ),
        (
            ["publish", "--body", "a\x01b"],
            "argument --body: a message body may not contain the character U+0001 (at 1)",
        ),
    ],
    ids=["unknown parameter", "misspelt parameter", "value out of range", "ratio", "empty body", "control"],
)
def test_a_bad_argument_exits_2_before_anything_is_sent(
    nowhere: dict[str, str], arguments: list[str], refused: str
) -> None:
    """The endpoint is a closed port: any request would make it exit 1 with a connection error."""
    done = share_worker(*arguments, env=nowhere)

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("usage: share-worker")
    assert f": error: {refused}" in done.stderr
    assert "publishing" not in done.stderr  # no progress bar was drawn


def test_stack_options_are_taken_before_and_after_the_command_and_from_the_environment(
    aws: EmbeddedAws,
) -> None:
    before, after, from_environment = (f"cli-{uuid.uuid4().hex[:10]}" for _ in range(3))

    assert share_worker("--param", "MaxReceiveCount=4", "provision", "--stack", before).returncode == 0
    done = share_worker(
        "--param", "MaxReceiveCount=6", "provision", "--stack", after, "--param", "DedupTtlDays=20"
    )
    assert done.returncode == 0, done.stderr
    done = share_worker("provision", env={**os.environ, "SHARE_WORKER_STACK": from_environment})
    assert done.returncode == 0, done.stderr

    assert redrive_policy(["--stack", before])["maxReceiveCount"] == 4
    assert redrive_policy(["--stack", after])["maxReceiveCount"] == 6  # both --params counted
    assert redrive_policy(["--stack", from_environment])["maxReceiveCount"] == 3


def test_provision_again_with_other_parameters_sets_the_existing_queue_s_attributes(stack: list[str]) -> None:
    done = share_worker(*stack, "provision", "--param", "MaxReceiveCount=5")

    assert done.returncode == 0, done.stderr
    assert redrive_policy(stack)["maxReceiveCount"] == 5
    changed = [line for line in done.stdout.splitlines() if line.startswith(f"queue {stack[1]}")]
    assert len(changed) == 1
    assert changed[0].startswith(f"queue {stack[1]}-share-events: RedrivePolicy ")
    assert changed[0].endswith('"maxReceiveCount":5}')
    again = share_worker(*stack, "provision", "--param", "MaxReceiveCount=5")
    assert again.returncode == 0 and "RedrivePolicy" not in again.stdout  # nothing left to change


def test_provision_turns_on_the_table_s_ttl_again(stack: list[str]) -> None:
    dynamodb = boto3.client("dynamodb")
    table = f"{stack[1]}-shares"
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "ExpiresAt"}
    )

    done = share_worker(*stack, "provision")

    assert done.returncode == 0, done.stderr
    assert f"table {table}: TTL DISABLED -> enabled on ExpiresAt" in done.stdout
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ExpiresAt")


def test_provision_refuses_a_table_whose_keys_the_template_does_not_give(aws: EmbeddedAws) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    boto3.client("dynamodb").create_table(
        TableName=f"{name}-shares",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    done = share_worker("--stack", name, "provision")

    assert done.returncode == 1
    assert done.stderr == (
        f"share-worker: table '{name}-shares' exists with the keys ['id (N, HASH)'] and the template's are "
        "['PK (S, HASH)', 'SK (S, RANGE)']: DynamoDB cannot change a table's keys; delete the table (its "
        "items go with it) or use another --stack\n"
    )


def test_publish_a_sample_event_sends_each_record_s_body_as_it_is(stack: list[str]) -> None:
    sample = SAMPLES / "events" / "mixed-batch.json"
    records = json.loads(sample.read_text())["Records"]

    done = share_worker(*stack, "publish", "--file", str(sample))

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"sent {len(records)} message(s)")
    assert sorted(received_bodies(queue_url(stack))) == sorted(record["body"] for record in records)


def test_the_next_page_command_of_a_feed_is_one_to_paste(stack: list[str]) -> None:
    for event in ("e-1", "e-2", "e-3"):
        published = share_worker(
            *stack, "publish", "--item-id", "test-item", "--user-id", "user123", "--event-id", event
        )
        assert published.returncode == 0
    assert share_worker(*stack, "run", "--until-drained", "--batch-window", "0").returncode == 0

    first = share_worker(*stack, "show", "feed", "user123", "--limit", "2")
    [command] = [
        line.removeprefix("next page: ") for line in first.stdout.splitlines() if "next page" in line
    ]
    arguments = shlex.split(command)
    second = share_worker(*arguments[1:])

    assert arguments[:8] == ["share-worker", *stack, "show", "feed", "user123", "--limit", "2"]
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("e-") == 1 and "next page" not in second.stdout


def test_dlq_inspect_says_how_many_it_did_not_show(stack: list[str]) -> None:
    sqs = boto3.client("sqs")
    for number in range(13):
        sqs.send_message(QueueUrl=queue_url(stack, "share-events-dlq"), MessageBody=f"parked {number}")

    done = share_worker(*stack, "dlq", "inspect")

    assert done.returncode == 0, done.stderr
    assert done.stdout.count("parked ") == 10
    assert done.stdout.endswith("\nshowing 10 of 13 (approximate); `--limit 13` shows them all\n")


def test_show_item_on_a_table_that_is_gone_says_who_creates_it(stack: list[str]) -> None:
    boto3.client("dynamodb").delete_table(TableName=f"{stack[1]}-shares")

    done = share_worker(*stack, "show", "item", "test-item")

    assert done.returncode == 1
    assert done.stderr == (
        f"share-worker: table '{stack[1]}-shares' of stack '{stack[1]}' is not there: the stack creates it "
        "(`share-worker provision`, or `share-worker serve` locally); check --stack and the region\n"
    )


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        ({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}, "no AWS region is configured"),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "no usable AWS credentials (Unable to locate credentials)"),
        (
            {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local"},
            "no usable AWS credentials (Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY)",
        ),
        ({"AWS_PROFILE": "nope"}, "The config profile (nope) could not be found (AWS_PROFILE)"),
        (
            {
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
            },
            f"nothing answers at {CLOSED_PORT}/",
        ),
    ],
    ids=["no region", "no keys", "half the keys", "unknown profile", "server down"],
)
def test_a_missing_aws_setup_says_how_to_set_it_up(
    tmp_path: Path, variables: dict[str, str], said: str
) -> None:
    done = share_worker(
        "dlq", "inspect", env=environment(tmp_path, AWS_ENDPOINT_URL=CLOSED_PORT, **variables)
    )

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(f"share-worker: {said}")
    assert FIX in done.stderr and "AWS_PROFILE" in done.stderr
    assert done.stderr.count("\n") == 1  # one line, no traceback


def test_aws_region_alone_is_enough(stack: list[str], aws: EmbeddedAws, tmp_path: Path) -> None:
    variables = {**aws.client_environment()}
    del variables["AWS_DEFAULT_REGION"]

    done = share_worker(*stack, "dlq", "inspect", env=environment(tmp_path, **variables))

    assert done.returncode == 0, done.stderr
    assert done.stdout == "the DLQ is empty\n"
