"""Contention retries inside an invocation: the time budget alone ends them, and each one is counted.

A stub DynamoDB cancels every transaction for ``TransactionConflict``; the Lambda context's clock is a
fake one that the worker's own waits move forward, so the test takes no time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from services import deadline as budget
from services.activity_service import ActivityService
from services.backoff import FullJitterBackoff
from services.dynamodb_service import TransactionCancelled
from services.errors import ContentionExhausted
from services.share_event import ShareEvent
from services.share_service import ShareService

ITEM = {"PK": "ITEM#hot", "SK": "METADATA", "ItemId": "hot", "UserId": "u", "IsPublic": True, "Name": "n"}
ROUND_TRIP_MS = 20


@dataclass
class FakeClock:
    """A Lambda context whose remaining time only moves when the worker waits or sends."""

    budget_ms: float
    now_ms: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.budget_ms - self.now_ms)

    def sleep(self, seconds: float) -> None:
        self.now_ms += seconds * 1000


class ConflictingDynamoDB:
    table_name = "t"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.attempts = 0

    def transact_write(self, actions: list[dict[str, Any]]) -> None:
        self.attempts += 1
        self.clock.now_ms += ROUND_TRIP_MS
        raise TransactionCancelled(
            [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(actions) - 1)
        )


def _events(count: int) -> list[ShareEvent]:
    return [ShareEvent("hot", "u", f"e-{index}", "2025-11-13T10:30:00.000Z") for index in range(count)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(budget_ms=30_000)  # the template's FunctionTimeout
    monkeypatch.setattr("services.deadline.time.sleep", fake.sleep)  # the worker's waits, and only they
    return fake


def test_inside_an_invocation_conflicts_are_retried_until_the_budget_not_a_fixed_count(
    clock: FakeClock,
) -> None:
    dynamodb = ConflictingDynamoDB(clock)
    backoff = FullJitterBackoff(draw=lambda: 0.5)
    service = ShareService(dynamodb, ActivityService(dynamodb), backoff=backoff)  # type: ignore[arg-type]
    deadline = budget.Deadline(clock, 4500, records=10)
    counted: list[int] = []

    with budget.obeying(deadline):
        result = service.commit(ITEM, _events(10), on_retry=lambda: counted.append(1))

    assert isinstance(result.failure, ContentionExhausted)
    assert result.retries > backoff.max_retries
    assert deadline.remaining_ms() < deadline.margin_ms + backoff.cap_s * 1000  # no time for one more wait
    assert dynamodb.attempts == result.retries + 1
    assert len(counted) == result.retries  # each retry reported as it happened


def test_without_an_invocation_the_retries_stop_at_the_backoff_s_bound(clock: FakeClock) -> None:
    dynamodb = ConflictingDynamoDB(clock)
    backoff = FullJitterBackoff(draw=lambda: 0.0, max_retries=5)
    service = ShareService(dynamodb, ActivityService(dynamodb), backoff=backoff)  # type: ignore[arg-type]

    result = service.commit(ITEM, _events(1))

    assert isinstance(result.failure, ContentionExhausted)
    assert (result.retries, dynamodb.attempts) == (5, 6)
