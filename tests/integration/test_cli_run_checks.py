"""What ``share-worker run`` refuses before it receives a message: the installed entry point, in a
process of its own, against the embedded server (the test process's environment points it there)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from local_runtime.cli import main
from local_runtime.embedded_aws import EmbeddedAws

pytestmark = pytest.mark.integration

SHARE_WORKER = Path(sys.executable).with_name("share-worker")
RUN_DEADLINE_S = 120


def share_worker(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SHARE_WORKER), *arguments], capture_output=True, text=True, timeout=RUN_DEADLINE_S, check=False
    )


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
        (
            ["run", "--max-concurrency", "1"],
            "parameter MaximumConcurrency must be at least 2, got 1",
        ),
        (
            ["--param", "MaximumBatchingWindowInSeconds=05", "run"],
            "parameter MaximumBatchingWindowInSeconds must be one of 0, 1, 2, 3, 4, 5, 10,",
        ),
    ],
    ids=[
        "no window for 20 records",
        "no time to write 10000",
        "a concurrency Lambda refuses",
        "a leading zero",
    ],
)
def test_run_s_own_options_are_checked_as_the_parameters_they_stand_for(
    provisioned: Provision, arguments: list[str], refused: str
) -> None:
    stack = provisioned("BatchSize=20", "MaximumBatchingWindowInSeconds=10")

    done = share_worker(*stack, *arguments, "--until-drained")

    assert done.returncode == 1
    assert done.stderr.startswith(f"share-worker: {refused}")
