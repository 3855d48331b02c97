"""``share-worker invoke`` and the product owner's "Local Testing" flow (README, "The product owner's
test event"): the installed entry point in a process of its own, against the embedded server."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.stack.provision import SAMPLES
from services.keys import item_key
from tests.cli_process import running_share_worker, share_worker
from tests.local_stack import LocalStack, local_stack

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
SINGLE_SHARE = SAMPLES / "events" / "single-share.json"
MIXED_BATCH = SAMPLES / "events" / "mixed-batch.json"


@pytest.fixture
def local(aws: EmbeddedAws) -> Iterator[LocalStack]:
    with local_stack() as stack:
        yield stack


def response(stdout: str) -> object:
    """The JSON object ``invoke`` prints before the outcome table."""
    return json.loads(stdout.partition("\n\n")[0])


def test_invoke_runs_the_event_against_the_configured_endpoint(local: LocalStack) -> None:
    done = share_worker("--stack", local.stack.name, "invoke", str(SINGLE_SHARE))

    assert done.returncode == 0, done.stderr
    assert response(done.stdout) == {"batchItemFailures": []}
    assert "ShareEventsProcessed  1\n" in done.stdout
    item = local.table.item("test-item")
    assert item is not None and (item["SharedCount"], item["IsPublic"]) == (1, True)


def test_invoke_exits_with_1_and_names_the_record_that_failed(local: LocalStack) -> None:
    done = share_worker("--stack", local.stack.name, "invoke", str(MIXED_BATCH))

    assert done.returncode == 1
    assert response(done.stdout) == {"batchItemFailures": [{"itemIdentifier": "msg-invalid"}]}
    counts = dict(re.findall(r"^(\w+)  +(\d+)$", done.stdout, re.MULTILINE))
    assert counts == {
        "ShareEventsProcessed": "2",
        "DuplicateEvents": "1",
        "ItemNotFound": "1",
        "UnauthorizedShares": "1",
        "ReusedEventIds": "0",
        "ValidationErrors": "1",
        "ProcessingErrors": "0",
    }


def test_invoke_embedded_needs_no_endpoint_and_no_stack(tmp_path: Path) -> None:
    """The README's first way: the event copied to test-event.json, then ``invoke --embedded``."""
    event = tmp_path / "test-event.json"
    shutil.copy(SINGLE_SHARE, event)
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}

    done = share_worker("invoke", str(event), "--embedded", "--logs", env=environment)

    assert done.returncode == 0, done.stderr
    assert '"outcome":"APPLIED"' in done.stdout  # --logs: the worker's own log line
    assert '{\n  "batchItemFailures": []\n}' in done.stdout
    assert "ShareEventsProcessed  1\n" in done.stdout


def test_invoke_refuses_a_file_that_is_not_a_lambda_event(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"itemId": "test-item"}')

    done = share_worker("invoke", str(body))

    assert done.returncode == 2
    assert f'{body} is not a Lambda SQS event: expected {{"Records": [...]}}' in done.stderr


def readme_snippet() -> str:
    """The Python the README has the product owner paste, as it stands there."""
    section = README.read_text().partition("### The product owner's test event")[2]
    return section.partition("python - <<'EOF'\n")[2].partition("\nEOF\n")[0]


def test_the_product_owner_s_snippet_works_in_a_shell_with_serve_s_export_line(
    aws: EmbeddedAws, tmp_path: Path
) -> None:
    """``serve``, its export line pasted, then ``lambda_handler(event, None)`` on test-event.json."""
    stack = f"po-{uuid.uuid4().hex[:8]}"
    server = running_share_worker("--stack", stack, "serve", "--port", "0")
    export = server.wait_for("export ", stream="stdout")
    server.wait_for("Ctrl-C stops the server.", stream="stdout")
    exported = dict(assignment.split("=", 1) for assignment in shlex.split(export)[1:])
    shutil.copy(SINGLE_SHARE, tmp_path / "test-event.json")
    try:
        snippet = subprocess.run(
            [sys.executable, "-c", readme_snippet()],
            cwd=tmp_path,
            env={**os.environ, **exported},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        served = boto3.resource("dynamodb", endpoint_url=exported["AWS_ENDPOINT_URL"])
        record = served.Table(exported["TABLE_NAME"]).get_item(Key=item_key("test-item"))["Item"]
    finally:
        server.process.send_signal(signal.SIGINT)
        stopped = server.finish()

    assert exported["TABLE_NAME"] == f"{stack}-shares"
    assert snippet.returncode == 0, snippet.stderr
    assert snippet.stdout.endswith('{\n  "batchItemFailures": []\n}\n')
    assert record["SharedCount"] == 1
    assert stopped.returncode == 0
