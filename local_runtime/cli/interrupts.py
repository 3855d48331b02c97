"""Ctrl-C for the commands that run execution environments: the first one stops gracefully, the
next one (or the only one, where there is no graceful stop) ends at once, quietly.

Execution environments run in sessions of their own, so the terminal's SIGINT reaches only this
process: it decides what happens to them. On an interrupt it kills every one of them, busy ones too,
and waits for the invocations they ran to end (at once, as failed, so their messages stay on the
queue for another delivery) before the interrupt goes on up to the command, which says so in one
line and ends with :data:`INTERRUPTED_STATUS`.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from local_runtime.lambda_service.execution_environment import EnvironmentPool
from local_runtime.lambda_service.poller import SqsPoller

INTERRUPTED_STATUS = 128 + signal.SIGINT
"""What a shell reports for a program ended by Ctrl-C."""

log = logging.getLogger("share-worker")


@contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Within the block, Ctrl-C or SIGTERM calls ``stop``; a second Ctrl-C raises KeyboardInterrupt."""

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("stopping (%s); press Ctrl-C again to interrupt", signal.Signals(signum).name)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def killed_on_interrupt(environments: EnvironmentPool, poller: SqsPoller | None = None) -> Iterator[None]:
    """A KeyboardInterrupt in the block kills every environment of the pool and, with ``poller``,
    waits for its invocations in flight to end, before it goes on; more Ctrl-Cs are ignored from
    then on (the process is ending: a traceback from its clean-up would tell nothing)."""
    try:
        yield
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        environments.kill()
        if poller:
            poller.wait_for_invocations()
        raise
