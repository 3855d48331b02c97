"""The invocation's time budget, enforced before every DynamoDB request and every wait.

Lambda discards the partial batch response of an invocation it kills at its timeout, and SQS then
redelivers the whole batch. So the worker keeps three promises, each sized from the same numbers:

* no DynamoDB request (an SDK retry included) is sent with less than the margin left: a
  ``before-send`` hook on the client raises :class:`DeadlineApproaching` instead (botocore does not
  retry that exception, so it ends the call at once);
* no backoff wait of the worker's own ends with less than the margin left (:meth:`Deadline.pause`;
  botocore's pause between its own attempts is not governed, but the attempt after it is refused);
* an attempt normally lasts at most the SDK's connect plus read timeouts, which must fit inside the
  margin with :data:`RESPONSE_RESERVE_MS` to spare (:func:`check_budget`, at start-up). The read
  timeout bounds each wait for bytes, not the whole answer, so a server that trickles its answer can
  hold an attempt longer: that is why the batch processor stops waiting for records at the reserve
  before the deadline whatever happens, so even such a call cannot cost the response.

Records run on worker threads, so the deadline a request obeys is the one its thread was given
(:func:`obeying`), held in a context variable: a late thread of an earlier invocation keeps obeying
its own, expired, deadline and sends nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from botocore.client import BaseClient

from services.errors import ConfigurationError, DeadlineApproaching

RESPONSE_RESERVE_MS = 500
"""Kept back at the end of every invocation to build the response, flush metrics and logs, and write
one traceback."""
REPORT_MS_PER_RECORD = 0.5
"""Added to the reserve (and the margin) per record of the batch: each record is logged and counted
before the answer. 0.06 ms on one full core here; Lambda at 256 MB has about a seventh of one."""
QUIET_FLOOR_MS = 150
COUNT_MS_PER_RECORD = 0.1
"""Below ``QUIET_FLOOR_MS`` plus this per record still to report, records are counted but no longer
logged one by one (0.015 ms a record on a full core): a slow report cannot cost the answer."""
GUARD_HOOK_ID = "share-worker-deadline-guard"


class RemainingTime(Protocol):
    """The one method of the Lambda context the budget needs."""

    def get_remaining_time_in_millis(self) -> int: ...


class Deadline:
    """The remaining time of one invocation, read from its Lambda context each time it is asked.

    Reporting a batch takes time in proportion to its records, so a batch of ``records`` keeps
    back ``REPORT_MS_PER_RECORD`` more per record, both at the cutoff and in the margin.
    """

    def __init__(self, context: RemainingTime, margin_ms: int, records: int = 0) -> None:
        self._context = context
        self.runs_down: bool = getattr(context, "counts_down", True)
        """Whether the context's clock moves: Lambda's does; a stand-in with a fixed time left does not."""
        self.reserve_ms = RESPONSE_RESERVE_MS + round(REPORT_MS_PER_RECORD * records)
        self.margin_ms = margin_ms + round(REPORT_MS_PER_RECORD * records)

    def remaining_ms(self) -> int:
        return int(self._context.get_remaining_time_in_millis())

    def allows_start(self) -> bool:
        """Whether a request may still start: at least the margin is left."""
        return self.remaining_ms() >= self.margin_ms

    def check(self, what: str) -> None:
        remaining = self.remaining_ms()
        if remaining < self.margin_ms:
            raise DeadlineApproaching(
                f"{what} not started: {remaining} ms of invocation time left, less than the "
                f"{self.margin_ms} ms margin",
                remaining_ms=remaining,
            )

    def pause(self, seconds: float, what: str) -> None:
        """Sleep ``seconds``, unless that would leave less than the margin: then raise at once."""
        remaining = self.remaining_ms()
        if remaining - seconds * 1000 < self.margin_ms:
            raise DeadlineApproaching(
                f"{what}: no time left to wait {seconds * 1000:.0f} ms ({remaining} ms left, "
                f"{self.margin_ms} ms margin)",
                remaining_ms=remaining,
            )
        time.sleep(seconds)

    def allows_logging(self, records_left: int) -> bool:
        """Whether there is still time to log the next record on its own line, not only count it."""
        return self.remaining_ms() > QUIET_FLOOR_MS + COUNT_MS_PER_RECORD * records_left

    def seconds_until_cutoff(self) -> float:
        """How long the batch processor may still wait for records before it must answer."""
        return max(0.0, (self.remaining_ms() - self.reserve_ms) / 1000)


_current: ContextVar[Deadline | None] = ContextVar("share_worker_deadline", default=None)


@contextmanager
def obeying(deadline: Deadline) -> Iterator[None]:
    """Every DynamoDB request this thread sends inside the block obeys ``deadline``."""
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


def in_force() -> bool:
    """Whether this thread runs under a deadline that runs down, as an invocation's does."""
    current = _current.get()
    return current is not None and current.runs_down


def pause(seconds: float, what: str) -> None:
    """:meth:`Deadline.pause` under the current thread's deadline; a plain sleep outside any batch."""
    deadline = _current.get()
    if deadline is None:
        time.sleep(seconds)
    else:
        deadline.pause(seconds, what)


def _refuse_late_requests(event_name: str, **_: Any) -> None:
    deadline = _current.get()
    if deadline is not None:
        deadline.check(f"DynamoDB {event_name.rsplit('.', 1)[-1]}")


def guard_client(client: BaseClient) -> None:
    """Make ``client`` refuse to send any request (SDK retries included) past the current deadline."""
    client.meta.events.register("before-send.dynamodb", _refuse_late_requests, unique_id=GUARD_HOOK_ID)


def check_budget(margin_ms: int, connect_timeout_s: float, read_timeout_s: float) -> None:
    """Refuse, at start-up, a margin that one SDK attempt could outlast.

    An attempt starts with at least ``margin_ms`` left and lasts at most ``connect + read`` timeouts;
    it must end with :data:`RESPONSE_RESERVE_MS` still left for the response.
    """
    attempt_ms = round((connect_timeout_s + read_timeout_s) * 1000)
    if margin_ms < attempt_ms + RESPONSE_RESERVE_MS:
        raise ConfigurationError(
            f"DEADLINE_MARGIN_MS={margin_ms} is too small: one DynamoDB attempt may take {attempt_ms} ms "
            f"(connect {connect_timeout_s} s + read {read_timeout_s} s) and the response needs "
            f"{RESPONSE_RESERVE_MS} ms; use at least {attempt_ms + RESPONSE_RESERVE_MS}"
        )
