"""The ``share-worker`` commands against the embedded server, the way a developer or operator uses them."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli.main import main
from local_runtime.cli.publisher import generated_bodies
from tests.conftest import ShareTable

pytestmark = pytest.mark.integration


@pytest.fixture
def stack_name(aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]) -> str:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    assert main(["--stack", name, "provision", "--seed"]) == 0
    capsys.readouterr()
    return name


def run(stack_name: str, *arguments: str) -> int:
    return main(["--stack", stack_name, *arguments])


def test_publish_run_look_at_the_results_and_redrive(
    stack_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.json"
    events.write_text(
        json.dumps(
            [
                {
                    "itemId": "01JCWXYZ8Q4KTV3M9N2P5R7S6A",
                    "userId": "user123",
                    "sharedAt": "2025-11-13T09:00:00Z",
                    "eventId": "from-file",
                }
            ]
        )
    )
    assert (
        run(stack_name, "publish", "--item-id", "test-item", "--user-id", "user123", "--event-id", "e-1") == 0
    )
    assert run(stack_name, "publish", "--file", str(events)) == 0
    assert (
        run(
            stack_name,
            "publish",
            "--count",
            "20",
            "--duplicate-ratio",
            "0.5",
            "--items",
            "test-item",
            "--users",
            "user123",
            "--seed",
            "7",
        )
        == 0
    )
    assert run(stack_name, "publish", "--body", "not json") == 0
    capsys.readouterr()

    assert run(stack_name, "run", "--until-drained", "--retry-after", "1", "--batch-window", "0") == 0
    capsys.readouterr()
    assert run(stack_name, "dlq", "inspect") == 0
    inspected = capsys.readouterr().out
    assert run(stack_name, "show", "item", "test-item") == 0
    item = capsys.readouterr().out
    assert run(stack_name, "show", "feed", "user123", "--limit", "1") == 0
    feed = capsys.readouterr().out
    assert run(stack_name, "dlq", "redrive") == 0
    redriven = capsys.readouterr().out
    assert run(stack_name, "dlq", "inspect") == 0
    inspected_after_redrive = capsys.readouterr().out

    table = ShareTable(f"{stack_name}-shares")
    applied = len(table.records_with_prefix("EVENT#"))
    test_item = table.item("test-item")
    assert test_item is not None and test_item["SharedCount"] == applied - 1  # one share was of another item
    generated = set(generated_bodies(20, ["test-item"], ["user123"], 0.5, random.Random(7)))
    assert applied == 1 + 1 + len(generated) < 1 + 1 + 20
    assert "not json" in inspected and inspected.count("\n") == 5
    assert inspected.endswith("\nshowing 1 of 1 (approximate)\n")
    assert f"SharedCount  {applied - 1}" in item
    assert f"next page: share-worker --stack {stack_name} show feed user123 --limit 1 --cursor " in feed
    assert "moved 1 message(s) back to the main queue (StartMessageMoveTask); 0 left" in redriven
    assert inspected_after_redrive.strip() == "the DLQ is empty"


def test_commands_against_a_stack_that_is_not_there_explain_what_to_do(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("never-provisioned", "dlq", "inspect") == 1

    error = capsys.readouterr().err
    assert "stack 'never-provisioned' is not there" in error and "share-worker serve" in error
