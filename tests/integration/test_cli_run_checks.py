"""What ``share-worker run`` refuses before it receives a message: the installed entry point, in a
process of its own, against the embedded server (the test process's environment points it there)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import boto3
import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli.main import main
from tests.cli_process import share_worker

pytestmark = pytest.mark.integration

Provision = Callable[..., list[str]]


@pytest.fixture
def provisioned(aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]) -> Provision:
    """Provisions a stack of its own with the given ``--param``s; returns the options naming it."""

    def provision(*parameters: str) -> list[str]:
        options = ["--stack", f"run-{uuid.uuid4().hex[:10]}"]
        assert main([*options, *(f"--param={parameter}" for parameter in parameters), "provision"]) == 0
        capsys.readouterr()
        return options

    return provision


def waiting_messages(stack_options: list[str]) -> str:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{stack_options[1]}-share-events")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return attributes["Attributes"]["ApproximateNumberOfMessages"]


@pytest.mark.parametrize(
    ("arguments", "timeout_s", "window_s"),
    [
        (["--param", "FunctionTimeout=10", "--param", "MaximumBatchingWindowInSeconds=90", "run"], 10, 90),
        (["--param", "FunctionTimeout=10", "run", "--batch-window", "5"], 10, 5),
        (["run"], 30, 5),
    ],
    ids=["a longer window as --param", "a longer window as --batch-window", "a longer timeout"],
)
def test_run_refuses_values_the_provisioned_queue_s_visibility_timeout_does_not_cover(
    provisioned: Provision, arguments: list[str], timeout_s: int, window_s: int
) -> None:
    """The queue was provisioned for a 10 s timeout and no window (60 s); a run that gathers or runs
    for longer would get a batch's first messages again (the review's run held one message twice)."""
    stack = provisioned("FunctionTimeout=10", "MaximumBatchingWindowInSeconds=0")
    assert share_worker(*stack, "publish", "--item-id", "test-item", "--user-id", "user123").returncode == 0

    done = share_worker(*stack, *arguments, "--until-drained")

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "share-worker: the queue was provisioned with a visibility timeout of 60 s, and this run needs "
        f"{6 * timeout_s + window_s} s (six times its function timeout, {timeout_s} s, plus its batching "
        f"window, {window_s} s): a batch's first messages would be handed out again before it ends; "
        f"provision the stack again with these values (--param FunctionTimeout={timeout_s} --param "
        f"MaximumBatchingWindowInSeconds={window_s}: restart `share-worker serve` with them, or deploy "
        "them), or run with the ones it has\n"
    )
    assert waiting_messages(stack) == "1"  # nothing was received


def test_run_takes_a_window_the_provisioned_queue_covers_though_its_parameters_say_less(
    provisioned: Provision,
) -> None:
    """Provisioned for a 90 s window (150 s at a 10 s timeout), a 60 s one fits, whatever the default
    window of the run's own --params (5 s)."""
    stack = provisioned("FunctionTimeout=10", "MaximumBatchingWindowInSeconds=90")

    done = share_worker(
        *stack, "--param", "FunctionTimeout=10", "run", "--until-drained", "--batch-window", "60"
    )

    assert done.returncode == 0, done.stderr
    assert "window 60 s" in done.stderr
    assert done.stdout.startswith("batches 0, received 0")


@pytest.mark.parametrize(
    ("arguments", "refused"),
    [
        (
            [
                "--param",
                "BatchSize=20",
                "--param",
                "MaximumBatchingWindowInSeconds=10",
                "run",
                "--batch-window",
                "0",
            ],
            "rule BatchSizeAboveTen: BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1",
        ),
        (
            ["--param", "FunctionTimeout=10", "run", "--batch-size", "10000"],
            "BatchSize 10000 with FunctionTimeout 10 leaves less than 1000 ms to write",
        ),
    ],
    ids=["no window for 20 records", "no time to write 10000"],
)
def test_run_s_own_options_are_checked_as_the_parameters_they_stand_for(
    provisioned: Provision, arguments: list[str], refused: str
) -> None:
    stack = provisioned("BatchSize=20", "MaximumBatchingWindowInSeconds=10")

    done = share_worker(*stack, *arguments, "--until-drained")

    assert done.returncode == 1
    assert done.stderr.startswith(f"share-worker: {refused}")


@pytest.mark.parametrize(
    ("arguments", "refused"),
    [
        (
            ["run", "--max-concurrency", "1"],
            "argument --max-concurrency: parameter MaximumConcurrency must be at least 2, got 1",
        ),
        (
            ["--param", "MaximumBatchingWindowInSeconds=05", "run"],
            "argument --param: parameter MaximumBatchingWindowInSeconds must be one of 0, 1, 2, 3, 4, 5, 10,",
        ),
        (
            ["run", "--batch-window", "7"],
            "argument --batch-window: parameter MaximumBatchingWindowInSeconds must be one of",
        ),
        (
            ["run", "--batch-size", "10001"],
            "argument --batch-size: parameter BatchSize must be at most 10000, got 10001",
        ),
    ],
    ids=[
        "a concurrency Lambda refuses",
        "a leading zero",
        "a window the template does not list",
        "a batch Lambda refuses",
    ],
)
def test_run_s_options_outside_their_parameter_s_constraints_are_argument_errors(
    provisioned: Provision, arguments: list[str], refused: str
) -> None:
    """Exit status 2, as for any bad argument, and the queue is not touched."""
    stack = provisioned()
    assert share_worker(*stack, "publish", "--item-id", "test-item", "--user-id", "user123").returncode == 0

    done = share_worker(*stack, *arguments, "--until-drained")

    assert done.returncode == 2
    assert f"share-worker: error: {refused}" in done.stderr
    assert waiting_messages(stack) == "1"
