"""The installed ``share-worker`` entry point in a process of its own, the way a user runs it.

The test process's environment (pointed at the embedded server by the ``aws`` fixture) is the child's,
unless ``env`` replaces it. :func:`share_worker` runs a command to its end; :func:`running_share_worker`
leaves it running, for a test that signals it.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

SHARE_WORKER = Path(sys.executable).with_name("share-worker")
COMMAND_DEADLINE_S = 120


def share_worker(
    *arguments: str, env: Mapping[str, str] | None = None, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``share-worker ARGUMENTS`` to its end; its output and exit status are the result's."""
    return subprocess.run(
        [str(SHARE_WORKER), *arguments],
        capture_output=True,
        text=True,
        timeout=COMMAND_DEADLINE_S,
        check=False,
        env=dict(env) if env is not None else None,
        input=input_text,
    )


class RunningProcess:
    """A command left running, its standard output and error read line by line on threads of their
    own: a test waits for a line it printed before it acts (sends a signal), instead of sleeping."""

    def __init__(
        self, command: list[str], env: Mapping[str, str] | None = None, stdout_lines: int | None = None
    ) -> None:
        """``stdout_lines``: read that many lines of standard output, then close it (``| head``)."""
        self.process = subprocess.Popen(  # the test's own command line: nothing from input
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env) if env is not None else None,
        )
        self._lines: dict[str, queue.Queue[str]] = {"stdout": queue.Queue(), "stderr": queue.Queue()}
        self._text: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream, limit), daemon=True)
            for name, stream, limit in (
                ("stdout", self.process.stdout, stdout_lines),
                ("stderr", self.process.stderr, None),
            )
        ]
        for reader in self._readers:
            reader.start()

    def wait_for(self, text: str, stream: str = "stderr") -> str:
        """The first line not waited for yet on ``stream`` that holds ``text``."""
        deadline = time.monotonic() + COMMAND_DEADLINE_S
        while (left_s := deadline - time.monotonic()) > 0:
            try:
                line = self._lines[stream].get(timeout=left_s)
            except queue.Empty:
                break
            if text in line:
                return line
        self.process.kill()
        raise AssertionError(f"no line with {text!r} on {stream}:\n{''.join(self._text[stream])}")

    def finish(self) -> subprocess.CompletedProcess[str]:
        """Waits for the process to end; its exit status and everything it printed."""
        returncode = self.process.wait(COMMAND_DEADLINE_S)
        for reader in self._readers:
            reader.join()
        stdout, stderr = ("".join(self._text[name]) for name in ("stdout", "stderr"))
        return subprocess.CompletedProcess(self.process.args, returncode, stdout, stderr)

    def descendants(self) -> list[int]:
        """Every process below this one (execution environments run in sessions of their own, and are
        still its children)."""
        parents = {pid: parent for pid, parent in _processes()}
        found: list[int] = []
        level = {self.process.pid}
        while level:
            level = {pid for pid, parent in parents.items() if parent in level}
            found.extend(level)
        return found

    def _read(self, name: str, stream: IO[str] | None, limit: int | None) -> None:
        assert stream is not None
        for count, line in enumerate(stream, start=1):
            self._text[name].append(line)
            if count == limit:
                stream.close()  # before the line is handed on: a test waiting for it knows it is closed
                self._lines[name].put(line)
                return
            self._lines[name].put(line)


def running_share_worker(
    *arguments: str, env: Mapping[str, str] | None = None, stdout_lines: int | None = None
) -> RunningProcess:
    return RunningProcess([str(SHARE_WORKER), *arguments], env, stdout_lines)


def running(pid: int) -> bool:
    """Whether the process is there and not a zombie (ended, and waiting for its parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _processes() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of every process, from /proc (psutil is not a dependency)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        yield int(stat.parent.name), int(fields[1])
