"""Running the lanes of a batch plan: the writes of each lane in queue order, shares of one item together.

A lane takes its records in queue order. A new share starts a group with the shares that follow it
in the lane for the same item (repeats and known duplicates in between are stepped over: they write
nothing), and the group goes to :meth:`ShareService.commit` as one transaction — unless the item,
as last known, would refuse to let that first share lead (a private item shared by someone other
than its owner): then it goes alone, event by event, until one share makes the item public.

Results go to :class:`BatchResults`, which the batch processor closes at its cutoff: a lane still
running after that (a hanging request) changes nothing that is reported.
"""

from __future__ import annotations

import threading
from bisect import insort
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from services import deadline as budget
from services.batch_plan import BatchPlan, Known, NewShare, Repeat
from services.batch_snapshot import BatchSnapshot
from services.deadline import Deadline
from services.dynamodb_service import Item
from services.errors import (
    DeadlineApproaching,
    RetryableProcessingError,
    SkippedAfterGroupFailure,
    UnexpectedError,
)
from services.outcomes import DUPLICATE, ITEM_NOT_FOUND, UNAUTHORIZED, Outcome, Settlement
from services.share_event import ShareEvent
from services.share_service import CommitResult, ShareService, duplicate_of, may_lead_group
from services.share_transaction import MAX_SHARES_PER_TRANSACTION
from services.telemetry import Annotation, traced

Result = Settlement | Exception
ITEM_SUBSEGMENT = "## share_item"
"""One per transaction of a group of shares: its DynamoDB call (and retries) nest under it."""
ANNOTATION_VALUE_LIMIT = 1000
"""X-Ray's limit on an annotation's value, in characters."""


class BatchResults:
    """Each record's result, written by the lanes' threads, read once by the processor."""

    def __init__(self, size: int) -> None:
        self._results: list[Result | None] = [None] * size
        self._lock = threading.Lock()
        self._closed = False
        self._retries = 0

    def settle(self, index: int, result: Result) -> None:
        with self._lock:
            if not self._closed and self._results[index] is None:
                self._results[index] = result

    def get(self, index: int) -> Result | None:
        with self._lock:
            return self._results[index]

    def count_retries(self, retries: int) -> None:
        with self._lock:
            if not self._closed:
                self._retries += retries

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def close(self) -> tuple[list[Result | None], int]:
        """The results and retries as they stand; nothing a lane does afterwards is kept."""
        with self._lock:
            self._closed = True
            return list(self._results), self._retries


@dataclass
class _LaneState:
    """What one lane learns as it goes; lanes run on threads of their own, so each has its own."""

    pending: list[int]
    items: dict[str, Item | None]
    """Each item as last known: from the batch's read, then from what its transactions said."""
    alone: set[int] = field(default_factory=set)
    """Shares to send one by one: DynamoDB refused a group they were in for its content."""


@dataclass
class LaneRunner:
    plan: BatchPlan
    snapshot: BatchSnapshot
    share_service: ShareService
    results: BatchResults
    deadline: Deadline
    fifo: bool
    item_turns: dict[str, threading.Lock] = field(default_factory=dict)
    """FIFO only: one lock per item, shared by the lanes (:meth:`_item_turn`)."""

    def run(self, lane: list[int]) -> None:
        with budget.obeying(self.deadline):
            self._run(_LaneState(pending=list(lane), items=dict(self.snapshot.items)))

    def _run(self, lane: _LaneState) -> None:
        while lane.pending and not self.results.closed:
            index = lane.pending.pop(0)
            step = self.plan.steps[index]
            share = self._share_to_write(index)
            if share is not None:
                failure = self._apply(index, share, lane)
            elif isinstance(step, Known):
                failure = self._settle(index, step.result)
            else:
                assert isinstance(step, Repeat)
                failure = self._settle(index, _as_repeat(self.results.get(step.original)))
            if failure is not None and self.fifo:
                self._skip(lane.pending)
                return

    def _apply(self, index: int, event: ShareEvent, lane: _LaneState) -> Exception | None:
        if lane.items.get(event.item_id) is None:
            return self._read_again(index, event, lane)
        with self._item_turn(event.item_id) as turn_taken:
            if not turn_taken:
                late = DeadlineApproaching(
                    "share transaction not started: its item stayed busy until the cutoff"
                )
                return self._settle(index, late)
            try:
                self.deadline.check("share transaction")
            except DeadlineApproaching as late:
                return self._settle(index, late)
            item = lane.items[event.item_id]
            assert item is not None
            leads = index not in lane.alone and may_lead_group(item, event)
            group = [index] + (self._followers(event, lane) if leads else [])
            events = [self._event(position) for position in group]
            with traced(ITEM_SUBSEGMENT, _item_annotations(events)) as trace:
                committed = self._commit(item, events)
                if trace:
                    trace.metadata(retries=committed.retries, outcomes=_outcomes(events, committed))
        lane.items[event.item_id] = committed.item_after
        for position in committed.left_over:
            insort(lane.pending, group[position])
            if committed.one_by_one:
                lane.alone.add(group[position])
        return self._settle_group(group, committed)

    def _settle_group(self, group: list[int], committed: CommitResult) -> Exception | None:
        """Each member's result, in queue order; on a FIFO queue nothing after a failure succeeds."""
        failure: Exception | None = None
        for position, member in enumerate(group):
            if position in committed.left_over:
                continue
            result: Result | None = committed.settled.get(position, committed.failure)
            if failure is not None and self.fifo:
                result = SkippedAfterGroupFailure(
                    "an earlier record of its message group failed in this batch"
                )
            if result is not None:
                settled_failure = self._settle(member, result)
                failure = failure or settled_failure
        return failure

    def _followers(self, leader: ShareEvent, lane: _LaneState) -> list[int]:
        """The shares after ``leader`` that can join its transaction, taken out of the lane's pending."""
        followers: list[int] = []
        event_ids = {leader.event_id}
        for index in lane.pending:
            step = self.plan.steps[index]
            share = self._share_to_write(index)
            if share is not None:
                if share.item_id != leader.item_id or share.event_id in event_ids or index in lane.alone:
                    break
                followers.append(index)
                event_ids.add(share.event_id)
                if len(followers) + 1 == MAX_SHARES_PER_TRANSACTION:
                    break
            elif isinstance(step, Known) and not isinstance(step.result, Settlement):
                break
        for index in followers:
            lane.pending.remove(index)
        return followers

    def _share_to_write(self, index: int) -> ShareEvent | None:
        """The share record ``index`` still has to write: a new share, or a copy of one that the owner
        rule refused (tried again in its turn, as event by event: the owner may have made the item
        public since). ``None`` for a record that writes nothing."""
        step = self.plan.steps[index]
        if isinstance(step, NewShare):
            return step.event
        if isinstance(step, Repeat) and self.results.get(step.original) == UNAUTHORIZED:
            return step.event
        return None

    def _read_again(self, index: int, event: ShareEvent, lane: _LaneState) -> Exception | None:
        """The item vanished after the batch's read (a transaction found none): read it and the markers
        of its shares still in the lane again, in one request. Back: the share is applied as usual.
        Still gone: each share is a duplicate if another invocation applied it meanwhile, else not found.
        """
        same_item = [index] + [
            position
            for position in lane.pending
            if (share := self._share_to_write(position)) is not None and share.item_id == event.item_id
        ]
        shares = [self._event(position) for position in same_item]
        try:
            snapshot = self.share_service.read_snapshot(shares)
        except RetryableProcessingError as error:
            return self._settle(index, error)
        item = snapshot.items.get(event.item_id)
        if item is not None:
            lane.items[event.item_id] = item
            return self._apply(index, event, lane)
        for position, share in zip(same_item, shares, strict=True):
            marker = snapshot.markers.get(share.event_id)
            if position != index:
                lane.pending.remove(position)
            self._settle(position, duplicate_of(share, marker) if marker else ITEM_NOT_FOUND)
        return None

    def _commit(self, item: Item, events: list[ShareEvent]) -> CommitResult:
        try:
            return self.share_service.commit(item, events, on_retry=lambda: self.results.count_retries(1))
        except Exception as crash:  # noqa: BLE001 - a bug, not DynamoDB: these shares fail, the lane goes on
            return CommitResult(item_after=item, failure=UnexpectedError.wrapping(crash))

    @contextmanager
    def _item_turn(self, item_id: str) -> Iterator[bool]:
        """On a FIFO queue, lanes follow message groups and several may hold shares of one item: their
        transactions take turns on it, since two at once on one item cancel each other in DynamoDB
        (``TransactionConflict``). A standard queue's lane is the item's only one. Yields whether the
        turn came before the cutoff."""
        if not self.fifo:
            yield True
            return
        turn = self.item_turns.setdefault(item_id, threading.Lock())
        taken = turn.acquire(timeout=self.deadline.seconds_until_cutoff())
        try:
            yield taken
        finally:
            if taken:
                turn.release()

    def _event(self, index: int) -> ShareEvent:
        step = self.plan.steps[index]
        assert isinstance(step, NewShare | Repeat)
        return step.event

    def _settle(self, index: int, result: Result) -> Exception | None:
        self.results.settle(index, result)
        return result if isinstance(result, Exception) else None

    def _skip(self, pending: list[int]) -> None:
        for index in pending:
            self.results.settle(
                index, SkippedAfterGroupFailure("an earlier record of its message group failed in this batch")
            )


def _as_repeat(first_copy: Result | None) -> Result:
    """A repeat ends as its first copy did, except that it never applies the share a second time."""
    if first_copy is None:
        return RetryableProcessingError("the first copy of this event in the batch did not finish")
    if isinstance(first_copy, DeadlineApproaching | SkippedAfterGroupFailure):
        return first_copy
    if isinstance(first_copy, Exception):
        return RetryableProcessingError(f"the first copy of this event in the batch failed: {first_copy}")
    if first_copy.outcome in (Outcome.APPLIED, Outcome.DUPLICATE):
        return Settlement(Outcome.DUPLICATE, first_copy.reused_from) if first_copy.reused_from else DUPLICATE
    return first_copy


def _item_annotations(events: list[ShareEvent]) -> dict[str, Annotation]:
    """``item_id``, and the group's eventIds separated by spaces (``annotation.event_id CONTAINS "..."``),
    as many whole ones as X-Ray keeps in one value; all of them are in the metadata's ``outcomes``."""
    shown = ""
    for event in events:
        candidate = f"{shown} {event.event_id}" if shown else event.event_id
        if len(candidate) > ANNOTATION_VALUE_LIMIT:
            break
        shown = candidate
    return {"item_id": events[0].item_id, "event_id": shown}


def _outcomes(events: list[ShareEvent], committed: CommitResult) -> dict[str, str]:
    """Each event's end in this transaction, for the trace's metadata."""
    ended: dict[str, str] = {}
    for position, event in enumerate(events):
        if position in committed.left_over:
            ended[event.event_id] = "sent again"
        elif position in committed.settled:
            ended[event.event_id] = committed.settled[position].outcome.name
        else:
            ended[event.event_id] = f"failed: {committed.failure}"
    return ended
