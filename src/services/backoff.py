"""How long to wait before retrying a transaction that DynamoDB cancelled for contention."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_DOUBLINGS = 32
"""Far past any cap; without a bound, 2 ** 1024 no longer converts to a float."""


@dataclass(frozen=True)
class FullJitterBackoff:
    """Exponential backoff with full jitter: before retry ``n``, a wait drawn uniformly from 0 to
    ``base * 2**(n - 1)``, at most ``cap``.

    Full jitter spreads the retries of invocations that collided on one hot item, so they do not
    collide again in step (AWS Architecture Blog, "Exponential Backoff And Jitter"). botocore's
    standard retries follow the same rule but never retry a cancelled transaction, so the worker does.
    """

    base_s: float = 0.025
    cap_s: float = 1.0
    max_retries: int = 30
    """A bound for callers without a time budget (scripts, the CLI); inside an invocation the budget
    alone decides, and a hot item may use it all: about 50 retries in the 25.5 s of a 30 s function."""
    draw: Callable[[], float] = field(default=random.random, repr=False)

    def delay_s(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1 for the first retry)."""
        ceiling: float = min(self.cap_s, self.base_s * 2 ** min(retry - 1, MAX_DOUBLINGS))
        return self.draw() * ceiling
