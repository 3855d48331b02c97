"""Exactly-once under duplicates and faults: a share workload, a queue that redelivers, an audit.

The reliability tests run these scenarios small and ``make reliability`` runs them big, with the
same code:

* :func:`share_workload` makes distinct share events over a handful of public items (so every one
  of them must be applied), :func:`messages_with_duplicates` sends each of them 1 to N times;
* :class:`RedeliveringQueue` plays SQS and the event source mapping in memory, with the settings
  of ``template.yaml`` (:class:`DeliverySettings`): batches of at most the batch size in shuffled
  order, each invocation with the function's timeout; a record reported in ``batchItemFailures``
  (or every record of a batch whose invocation raised or ran out of time) comes back in a later
  batch; after ``MaxReceiveCount`` receives it goes to a dead-letter list instead;
* :func:`audit_table` reads the whole table back: every item's ``SharedCount`` against its number
  of distinct events, and exactly one dedup marker and one feed entry per event.

The workload and the audit know nothing of the in-memory queue, so a run through the real queue
and poller processes can be audited the same way.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from local_runtime.lambda_service.bootstrap import InvocationContext
from local_runtime.lambda_service.capture import captured_telemetry
from local_runtime.stack.provision import item_record
from local_runtime.stack.template import Stack
from services.keys import ITEM_SK, MARKER_SK
from testkit.faults import FaultPlan, FaultStats
from testkit.synthetic_sqs import sqs_event, sqs_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Invoke = Callable[[dict[str, Any], Any], Mapping[str, Any]]
"""One invocation of the function: an SQS event and a Lambda context in, ``{"batchItemFailures":
[...]}`` out (``lambda_handler`` itself; the context is any object with a Lambda context's attributes)."""

WORKLOAD_START = datetime(2025, 11, 1, tzinfo=UTC)
WORKLOAD_SPAN = timedelta(days=10)
WORKLOAD_USERS = 25


@dataclass(frozen=True)
class Share:
    item_id: str
    user_id: str
    event_id: str
    shared_at: str

    def body(self) -> str:
        return json.dumps(
            {
                "itemId": self.item_id,
                "userId": self.user_id,
                "sharedAt": self.shared_at,
                "eventId": self.event_id,
            }
        )


@dataclass(frozen=True)
class Workload:
    """Distinct share events over public items, so each one must be applied exactly once."""

    owners: Mapping[str, str]
    """Item id to owner."""
    shares: list[Share]

    def expected_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.owners, 0)
        for share in self.shares:
            counts[share.item_id] += 1
        return counts


def share_workload(rng: random.Random, *, events: int, items: int, hot_item_rate: float = 0.0) -> Workload:
    """``hot_item_rate`` of the events go to the first item (:data:`HOT_ITEM_ID`), the rest anywhere."""
    owners = {_item_id(index): f"owner-{index:02d}" for index in range(items)}
    item_ids = list(owners)
    shares = [
        Share(
            item_id=item_ids[0] if hot_item_rate and rng.random() < hot_item_rate else rng.choice(item_ids),
            user_id=f"user-{rng.randrange(WORKLOAD_USERS):02d}",
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            shared_at=(WORKLOAD_START + rng.random() * WORKLOAD_SPAN).isoformat(timespec="milliseconds"),
        )
        for _ in range(events)
    ]
    return Workload(owners=owners, shares=shares)


def _item_id(index: int) -> str:
    return f"item-{index:02d}"


HOT_ITEM_ID = _item_id(0)


def seed_workload(table: Table, workload: Workload) -> None:
    """The workload's items, public and never shared yet, as the wardrobe API writes them."""
    with table.batch_writer() as batch:
        for item_id, owner in workload.owners.items():
            batch.put_item(
                Item=item_record({"itemId": item_id, "name": item_id, "ownerId": owner, "isPublic": True})
            )


def messages_with_duplicates(workload: Workload, rng: random.Random, max_copies: int) -> list[str]:
    """Each event's body 1 to ``max_copies`` times, shuffled: producer retries and SQS redeliveries."""
    bodies = [share.body() for share in workload.shares for _ in range(rng.randint(1, max_copies))]
    rng.shuffle(bodies)
    return bodies


@dataclass(frozen=True)
class DeliverySettings:
    """What ``template.yaml`` says a message goes through between the queue and the function.

    The scenarios take these and never numbers of their own: a friendlier receive count (the
    harness once used 10 against the template's 3) hides the messages users would see dead-lettered.
    """

    max_receive_count: int
    batch_size: int
    batching_window_s: int
    maximum_concurrency: int
    function_timeout_s: int

    @classmethod
    def from_stack(cls, stack: Stack | None = None) -> DeliverySettings:
        stack = stack or Stack()
        source = stack.event_source()
        return cls(
            max_receive_count=int(stack.parameter("MaxReceiveCount")),
            batch_size=source.batch_size,
            batching_window_s=source.batching_window_s,
            maximum_concurrency=source.maximum_concurrency,
            function_timeout_s=stack.function().timeout_s,
        )


@dataclass
class QueueStats:
    messages: int = 0
    invocations: int = 0
    deliveries: int = 0
    """Records handed to the function, redeliveries included."""
    failed_deliveries: int = 0
    crashes: int = 0
    """Invocations that raised or ran past the function's timeout: all their records came back."""
    dead_letters: list[str] = field(default_factory=list)
    metrics: Counter[str] = field(default_factory=Counter)
    """The function's metrics over every invocation (``DuplicateEvents``, ``ProcessingErrors``...)."""

    @property
    def redeliveries(self) -> int:
        return self.deliveries - self.messages


@dataclass
class _Message:
    message_id: str
    body: str
    receives: int = 0


class RedeliveringQueue:
    """In-memory SQS and event source mapping: shuffled batches, failed records come back later.

    Batch size, receive count and function timeout are the template's (``settings``). Invocations run
    one at a time and batches are cut from whatever is pending, so the maximum concurrency and the
    batching window have nothing to act on here; the poller scenarios
    (:mod:`testkit.poller_scenarios`) run them for real.
    """

    def __init__(self, rng: random.Random, settings: DeliverySettings | None = None) -> None:
        self._rng = rng
        self._pending: deque[_Message] = deque()
        self.settings = settings or DeliverySettings.from_stack()
        self.stats = QueueStats()

    def send(self, body: str) -> None:
        self._pending.append(_Message(str(uuid.UUID(int=self._rng.getrandbits(128), version=4)), body))
        self.stats.messages += 1

    def drain(self, invoke: Invoke) -> QueueStats:
        """Invoke until every message succeeded or was dead-lettered; each is received at most
        ``max_receive_count`` times, so this ends."""
        while self._pending:
            size = min(len(self._pending), self._rng.randint(1, self.settings.batch_size))
            batch = [self._pending.popleft() for _ in range(size)]
            for message in batch:
                message.receives += 1
            self.stats.invocations += 1
            self.stats.deliveries += size
            for message in self._failed(batch, invoke):
                self.stats.failed_deliveries += 1
                self._return(message)
        return self.stats

    def _failed(self, batch: list[_Message], invoke: Invoke) -> list[_Message]:
        event = sqs_event(
            *(sqs_record(message.body, message.message_id, message.receives) for message in batch)
        )
        timeout_ms = self.settings.function_timeout_s * 1000
        context = InvocationContext(deadline_ms=int(time.time() * 1000) + timeout_ms)
        with captured_telemetry() as captured:
            try:
                response = invoke(event, context)
            except Exception:  # noqa: BLE001 - a raising invocation is what Lambda retries as a whole batch
                response = None
        self.stats.metrics.update(captured.metrics)
        if response is None or context.get_remaining_time_in_millis() == 0:
            # Lambda would have ended an invocation that ran out of time and never seen its answer.
            self.stats.crashes += 1
            return batch
        failed_ids = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        unknown = failed_ids - {message.message_id for message in batch}
        if unknown:
            raise ValueError(
                f"batchItemFailures names messages that were not in the batch: {sorted(unknown)}"
            )
        return [message for message in batch if message.message_id in failed_ids]

    def _return(self, message: _Message) -> None:
        if message.receives >= self.settings.max_receive_count:
            self.stats.dead_letters.append(message.body)
        else:
            self._pending.insert(self._rng.randint(0, len(self._pending)), message)


@dataclass(frozen=True)
class Audit:
    """The table as read back, against the workload."""

    expected_counts: dict[str, int]
    found_counts: dict[str, int]
    markers: Counter[str]
    """Dedup markers per event id."""
    activities: Counter[str]
    """Feed entries per event id."""
    event_ids: frozenset[str]

    @property
    def lost(self) -> int:
        """Shares missing from the items' counts."""
        return sum(
            max(0, expected - self.found_counts.get(item, 0))
            for item, expected in self.expected_counts.items()
        )

    @property
    def double_applied(self) -> int:
        """Shares counted more than once."""
        return sum(
            max(0, self.found_counts.get(item, 0) - expected)
            for item, expected in self.expected_counts.items()
        )

    @property
    def unapplied(self) -> int:
        """Events with neither a marker nor a feed entry (their share should be missing from the
        counts too: ``lost``)."""
        return sum(1 for event_id in self.event_ids if self._records(event_id) == (0, 0))

    @property
    def half_written(self) -> int:
        """Events with some of their records but not exactly one marker and one feed entry, and
        records of events never sent."""
        broken = sum(1 for event_id in self.event_ids if self._records(event_id) not in ((1, 1), (0, 0)))
        strays = set(self.markers) | set(self.activities)
        return broken + len(strays - self.event_ids)

    @property
    def exact(self) -> bool:
        return self.found_counts == self.expected_counts and self.half_written == self.unapplied == 0

    def _records(self, event_id: str) -> tuple[int, int]:
        return self.markers[event_id], self.activities[event_id]


def audit_table(table: Table, workload: Workload) -> Audit:
    found_counts: dict[str, int] = {}
    markers: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    for record in scan_all(table):
        partition_key, sort_key = str(record["PK"]), str(record["SK"])
        if partition_key.startswith("ITEM#") and sort_key == ITEM_SK:
            found_counts[str(record["ItemId"])] = int(record.get("SharedCount", 0))
        elif partition_key.startswith("EVENT#") and sort_key == MARKER_SK:
            markers[str(record["EventId"])] += 1
        elif partition_key.startswith("USER#"):
            activities[str(record["EventId"])] += 1
    return Audit(
        expected_counts=workload.expected_counts(),
        found_counts=found_counts,
        markers=markers,
        activities=activities,
        event_ids=frozenset(share.event_id for share in workload.shares),
    )


def scan_all(table: Table) -> list[dict[str, Any]]:
    """Every record of ``table``, read consistently, page after page."""
    records: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**arguments)
        records.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return records
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True)
class ShareScenario:
    """One run: ``events`` distinct events over ``items`` items, each sent 1 to ``max_copies`` times."""

    name: str
    events: int
    items: int
    max_copies: int
    fault_plan: FaultPlan | None = None
    seed: int = 0
    hot_item_rate: float = 0.0
    """Share of the events on one hot item (:func:`share_workload`)."""


SCENARIO_ITEMS = 5
FAULT_RATE = 0.3
SLOW_RESPONSE_S = 0.05


def duplicates_scenario(events: int, *, seed: int = 0) -> ShareScenario:
    """Scenario 1: every event sent 1 to 4 times; no faults."""
    return ShareScenario("1 duplicates", events=events, items=SCENARIO_ITEMS, max_copies=4, seed=seed)


def faults_scenario(events: int, *, seed: int = 0) -> ShareScenario:
    """Scenario 2: every event sent once or twice; ``FAULT_RATE`` of DynamoDB requests faulted alike."""
    plan = FaultPlan.every_kind(FAULT_RATE, slow_response_s=SLOW_RESPONSE_S, seed=seed)
    return ShareScenario(
        "2 faults", events=events, items=SCENARIO_ITEMS, max_copies=2, fault_plan=plan, seed=seed
    )


@dataclass(frozen=True)
class ScenarioResult:
    scenario: ShareScenario
    queue: QueueStats
    audit: Audit
    faults: FaultStats = field(default_factory=FaultStats)


def run_share_scenario(
    scenario: ShareScenario,
    *,
    table: Table,
    invoke: Invoke,
    faults: FaultStats | None = None,
) -> ScenarioResult:
    """Seed ``table``, send the messages, redeliver at the template's settings until done, audit.

    ``invoke`` must reach ``table`` (through the fault proxy whose ``faults`` these are, if any).
    """
    rng = random.Random(scenario.seed)
    workload = share_workload(
        rng, events=scenario.events, items=scenario.items, hot_item_rate=scenario.hot_item_rate
    )
    seed_workload(table, workload)
    queue = RedeliveringQueue(rng)
    for body in messages_with_duplicates(workload, rng, scenario.max_copies):
        queue.send(body)
    stats = queue.drain(invoke)
    return ScenarioResult(scenario, stats, audit_table(table, workload), faults or FaultStats())
