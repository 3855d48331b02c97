"""Ctrl-C in ``share-worker run`` and in ``make run``: the installed entry point (and the demo module)
in a process of its own, signalled once it printed the line the test waits for."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli import demo
from local_runtime.cli.worker_loop import INTERRUPTED
from local_runtime.stack.template import TEMPLATE_PATH
from tests.cli_process import RunningProcess, running, running_share_worker
from tests.integration import behaviours
from tests.local_stack import BEHAVIOURS_HANDLER, LocalStack, local_stack, share

pytestmark = pytest.mark.integration

REPOSITORY = Path(__file__).resolve().parents[2]
RUN = ["run", "--retry-after", "1", "--batch-window", "0"]


@pytest.fixture
def local(aws: EmbeddedAws) -> Iterator[LocalStack]:
    with local_stack() as stack:
        yield stack


@pytest.fixture
def behaviours_template(tmp_path: Path) -> Path:
    """template.yaml with the test behaviours handler for the function, and ``tests`` importable by
    the execution environments (they get the command's ``sys.path``)."""
    template = tmp_path / "template.yaml"
    template.write_text(
        TEMPLATE_PATH.read_text().replace("Handler: handler.lambda_handler", f"Handler: {BEHAVIOURS_HANDLER}")
    )
    return template


def no_process_survives(pids: list[int]) -> list[int]:
    return [pid for pid in pids if running(pid)]


def test_one_ctrl_c_stops_run_cleanly_with_its_summary(local: LocalStack) -> None:
    local.send(share("test-item", "user123", f"e-{uuid.uuid4()}"))
    worker = running_share_worker("--stack", local.stack.name, *RUN)
    worker.wait_for("batch of 1: 1 deleted")
    environments = worker.descendants()

    worker.process.send_signal(signal.SIGINT)
    done = worker.finish()

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout.startswith("batches 1, received 1, deleted 1, left for retry 0, failed invocations 0")
    assert "ShareEventsProcessed  1\n" in done.stdout
    assert environments and no_process_survives(environments) == []


def test_a_second_ctrl_c_kills_the_invocation_in_flight_and_says_what_was_done(
    local: LocalStack, behaviours_template: Path
) -> None:
    """The first Ctrl-C waits for the batch in flight; this one hangs for a minute, so the second
    Ctrl-C kills its environment: the batch failed as a whole and its message stays on the queue."""
    local.send(share("test-item", "user123", f"e-{uuid.uuid4()}"))
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    worker = running_share_worker(
        "--stack", local.stack.name, "--template", str(behaviours_template), *RUN, env=environment
    )
    worker.wait_for("batch of 1: 1 deleted")
    local.send(share("test-item", "user456", f"e-{uuid.uuid4()}"), behaviour=behaviours.ANNOUNCE_AND_HANG)
    worker.wait_for(behaviours.ANNOUNCEMENT)
    environments = worker.descendants()

    worker.process.send_signal(signal.SIGINT)
    worker.wait_for("stopping (SIGINT); press Ctrl-C again to interrupt")
    worker.process.send_signal(signal.SIGINT)
    done = worker.finish()

    assert done.returncode == 130
    assert "Traceback" not in done.stderr + done.stdout
    assert f"{INTERRUPTED}\n" in done.stderr
    assert "failed (the execution environment was killed): its whole batch is retried" in done.stderr
    assert done.stdout.startswith("batches 2, received 2, deleted 1, left for retry 0, failed invocations 1")
    assert "ShareEventsProcessed  1\n" in done.stdout
    counts = local.queue_counts(local.resources.queue_url)
    assert counts["ApproximateNumberOfMessages"] + counts["ApproximateNumberOfMessagesNotVisible"] == 1
    assert environments and no_process_survives(environments) == []


def test_ctrl_c_in_make_run_prints_one_line_and_leaves_nothing_running() -> None:
    """``make run`` is ``python -m local_runtime.cli.demo``; its server is a thread of the process."""
    demo_run = RunningProcess(
        [sys.executable, "-m", "local_runtime.cli.demo"], env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    demo_run.wait_for("poller: batch of", stream="stdout")
    environments = demo_run.descendants()

    demo_run.process.send_signal(signal.SIGINT)
    done = demo_run.finish()

    assert (done.returncode, done.stderr) == (130, f"{demo.INTERRUPTED}\n")
    assert "Traceback" not in done.stdout
    assert environments and no_process_survives(environments) == []
