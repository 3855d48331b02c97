"""How long to wait before retrying a transaction that DynamoDB cancelled for contention."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FullJitterBackoff:
    """Exponential backoff with full jitter: a wait drawn uniformly from 0 to ``base * 2**retry``.

    Full jitter spreads the retries of invocations that collided on one hot item, so they do not
    collide again in step (AWS Architecture Blog, "Exponential Backoff And Jitter"). botocore's
    standard retries follow the same rule but never retry a cancelled transaction, so the worker does.
    """

    base_s: float = 0.025
    cap_s: float = 1.0
    max_retries: int = 30
    """A bound for callers without a time budget; with one, the budget runs out long before."""
    draw: Callable[[], float] = field(default=random.random, repr=False)

    def delay_s(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1 for the first retry)."""
        ceiling: float = min(self.cap_s, self.base_s * 2 ** (retry - 1))
        return self.draw() * ceiling
