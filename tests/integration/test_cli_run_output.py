"""What ``share-worker run`` prints on standard output: the summary, and with ``--logs`` the worker's
own output too, a reader that goes away (``| head -1``) included. The installed entry point in a
process of its own, stopped with Ctrl-C once it printed the line the test waits for."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli.broken_pipe import BROKEN_PIPE_STATUS
from tests.cli_process import running_share_worker
from tests.local_stack import LocalStack, local_stack, share

pytestmark = pytest.mark.integration

RUN = ["run", "--retry-after", "1", "--batch-window", "0"]


@pytest.fixture
def local(aws: EmbeddedAws) -> Iterator[LocalStack]:
    with local_stack() as stack:
        yield stack


def waiting(local: LocalStack, url: str) -> int:
    counts = local.queue_counts(url)
    return counts["ApproximateNumberOfMessages"] + counts["ApproximateNumberOfMessagesNotVisible"]


def test_run_logs_to_a_reader_that_went_away_still_processes_every_message(local: LocalStack) -> None:
    """The first batch's output reaches the pipe, which the test then closes; the batches after it
    write to a closed pipe, and their messages must still be processed, not dead-lettered."""
    local.send(share("test-item", "user123", f"e-{uuid.uuid4()}"))
    worker = running_share_worker("--stack", local.stack.name, *RUN, "--logs", stdout_lines=1)
    worker.wait_for("", stream="stdout")
    worker.wait_for("batch of 1: 1 deleted")
    for user in ("user456", "user789"):
        local.send(share("test-item", user, f"e-{uuid.uuid4()}"))
        worker.wait_for("batch of 1: 1 deleted")

    worker.process.send_signal(signal.SIGINT)
    done = worker.finish()

    assert done.returncode == BROKEN_PIPE_STATUS, done.stderr
    assert "Traceback" not in done.stderr
    assert "failed" not in done.stderr
    assert waiting(local, local.resources.queue_url) == 0
    assert waiting(local, local.resources.dlq_url) == 0
