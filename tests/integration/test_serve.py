"""``share-worker serve`` in a process of its own, and the commands it prints run exactly as printed."""

from __future__ import annotations

import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from local_runtime.cli.main import main

pytestmark = pytest.mark.integration

READY = "Ctrl-C stops the server."


@pytest.fixture
def served_app_table() -> Iterator[list[str]]:
    """``serve`` on an app table of its own; yields what it printed up to the Ctrl-C line."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_runtime.cli.main",
            "--stack",
            f"serve-{uuid.uuid4().hex[:8]}",
            "--param",
            "ExistingTableName=wardrobe-app",
            "serve",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    printed = []
    for line in server.stdout:
        printed.append(line.rstrip("\n"))
        if line.strip() == READY:
            break
    try:
        assert printed[-1:] == [READY], "\n".join(printed)
        yield printed
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_on_an_app_table_prints_commands_that_work_on_that_table(
    served_app_table: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [export] = [line.strip() for line in served_app_table if line.strip().startswith("export ")]
    commands = [shlex.split(line) for line in served_app_table if line.strip().startswith("share-worker ")]
    for assignment in shlex.split(export)[1:]:
        monkeypatch.setenv(*assignment.split("=", 1))

    statuses = [main(command[1:]) for command in commands]

    assert [command[command.index("--param") + 1] for command in commands] == [
        "ExistingTableName=wardrobe-app"
    ] * 2
    assert [command[5] for command in commands] == ["publish", "run"]
    assert statuses == [0, 0]
    assert "deleted 100, left for retry 0" in capsys.readouterr().out
