"""Ctrl-C for the commands that run execution environments: ``run`` stops gracefully on the first
one and ends at once on the second; ``make run`` and ``invoke`` end at once on the first.

Execution environments run in sessions of their own, so the terminal's SIGINT reaches only this
process, which decides what happens to them. Ending at once means: kill every environment, busy ones
too, in the signal handler itself (so that nothing, not even the poller's own wait for its
invocations, waits for a handler that may run for minutes), raise KeyboardInterrupt, and wait for the
invocations to end (at once, as failed: their messages stay on the queue for another delivery)
before it goes on up to the command, which says so in one line and ends with
:data:`INTERRUPTED_STATUS`. Later Ctrl-Cs are ignored: the process is ending, and a traceback from
its clean-up would tell nothing.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from local_runtime.lambda_service.execution_environment import EnvironmentPool
from local_runtime.lambda_service.poller import SqsPoller

INTERRUPTED_STATUS = 128 + signal.SIGINT
"""What a shell reports for a program ended by Ctrl-C."""

log = logging.getLogger("share-worker")


@contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Within the block, Ctrl-C or SIGTERM calls ``stop``; a second Ctrl-C raises KeyboardInterrupt."""
    with _signals_handled(stop, lambda: None):
        yield


@contextmanager
def ending_on_interrupt(
    environments: EnvironmentPool,
    poller: SqsPoller | None = None,
    graceful_stop: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Within the block, Ctrl-C ends every environment of the pool at once and raises KeyboardInterrupt,
    which leaves the block once ``poller``'s invocations have ended. With ``graceful_stop``, the first
    Ctrl-C (or SIGTERM) calls it instead, and only the next one ends at once."""
    try:
        with _signals_handled(graceful_stop, environments.kill):
            yield
    except KeyboardInterrupt:
        if poller:
            poller.wait_for_invocations()
        raise


@contextmanager
def _signals_handled(graceful_stop: Callable[[], None] | None, kill: Callable[[], None]) -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        kill()
        raise KeyboardInterrupt

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, interrupt)
        log.info("stopping (%s); press Ctrl-C again to interrupt", signal.Signals(signum).name)
        assert graceful_stop is not None
        graceful_stop()

    handlers: dict[signal.Signals, Any] = (
        {signal.SIGINT: stop, signal.SIGTERM: stop} if graceful_stop else {signal.SIGINT: interrupt}
    )
    previous = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    try:
        yield
    finally:
        for number, handler in previous.items():
            if signal.getsignal(number) is not signal.SIG_IGN:
                signal.signal(number, handler)
