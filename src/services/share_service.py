"""Applying the new shares of one item: one transaction, and what to do when DynamoDB cancels it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services import deadline
from services.activity_service import ActivityService
from services.backoff import FullJitterBackoff
from services.batch_snapshot import BatchSnapshot, read_snapshot
from services.dynamodb_service import DynamoDBService, Item, TransactionCancelled
from services.errors import (
    ContentionExhausted,
    DeadlineApproaching,
    RequestRejected,
    RetryableProcessingError,
    Throttled,
)
from services.keys import marker_key
from services.outcomes import APPLIED, DUPLICATE, ITEM_NOT_FOUND, UNAUTHORIZED, Outcome, Settlement
from services.share_event import ShareEvent
from services.share_transaction import (
    MAX_SHARES_PER_TRANSACTION,
    MAX_TRANSACTION_BYTES,
    ShareWrites,
    estimated_size,
    read_cancellation,
    transaction_actions,
)
from services.timestamps import format_utc, utc_now


@dataclass
class CommitResult:
    """How a group of shares ended, by position in the group passed to :meth:`ShareService.commit`."""

    settled: dict[int, Settlement] = field(default_factory=dict)
    left_over: list[int] = field(default_factory=list)
    """Shares not attempted to the end: the caller decides again how to apply them."""
    failure: RetryableProcessingError | None = None
    """The error of every share neither settled nor left over."""
    item_after: Item | None = None
    """The item as last known (``None``: it does not exist)."""
    retries: int = 0
    """Transactions sent again after a cancellation for contention."""
    one_by_one: bool = False
    """DynamoDB refused the group for its content: the left-over shares must go one by one, so that
    the one share at fault (a feed entry over 400 KB, say) fails alone."""


def shares_freely(item: Mapping[str, object]) -> bool:
    """Anyone may share this item: it is public, or it has no owner (as the condition says:
    ``attribute_not_exists(UserId)``)."""
    return item.get("IsPublic") is True or "UserId" not in item


def may_lead_group(item: Mapping[str, object], event: ShareEvent) -> bool:
    """Whether ``event`` may head a group of shares of ``item``: once it applies, everyone's do."""
    return shares_freely(item) or item.get("UserId") == event.user_id


def duplicate_of(event: ShareEvent, earlier: Mapping[str, object] | None) -> Settlement:
    """A duplicate; flagged as a reused eventId when the record found names another item or user."""
    if earlier is None:
        return DUPLICATE
    named = {"ItemId": earlier.get("ItemId"), "UserId": earlier.get("UserId")}
    if named == {"ItemId": event.item_id, "UserId": event.user_id}:
        return DUPLICATE
    return Settlement(Outcome.DUPLICATE, reused_from=named)


class ShareService:
    def __init__(
        self,
        dynamodb_service: DynamoDBService,
        activity_service: ActivityService,
        *,
        dedup_ttl: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = utc_now,
        backoff: FullJitterBackoff | None = None,
    ) -> None:
        self.dynamodb_service = dynamodb_service
        self.activity_service = activity_service
        self.dedup_ttl = dedup_ttl
        self.clock = clock
        self.backoff = backoff or FullJitterBackoff()

    def read_snapshot(self, events: Sequence[ShareEvent]) -> BatchSnapshot:
        return read_snapshot(self.dynamodb_service, events)

    def commit(
        self, item: Item, events: Sequence[ShareEvent], on_retry: Callable[[], None] = lambda: None
    ) -> CommitResult:
        """Apply new shares of ``item`` (distinct eventIds, queue order) in ONE transaction.

        The first share must be allowed to lead the group (:func:`may_lead_group`). Only as many
        shares as fit one transaction are sent; the rest come back in ``left_over``. A cancellation
        is settled from its reasons: shares already applied are duplicates and the rest is sent
        again; an item that does not exist settles every other share as not found; a refused owner
        rule settles the first share and returns the others for the caller to decide again;
        conflicts and throttling are retried with full-jitter backoff while the time budget allows,
        ``on_retry`` called before each new try (so a retry counts even if its answer never comes).
        """
        result = CommitResult(item_after=item)
        fitting = self._fitting(item, events)
        result.left_over = list(range(fitting, len(events)))
        pending = list(range(fitting))
        while pending:
            group = [events[position] for position in pending]
            try:
                self._send(item, group)
            except TransactionCancelled as cancelled:
                reading = read_cancellation(cancelled.reasons, len(group))
                if reading.unexpected:
                    return _refused(
                        result, pending, RetryableProcessingError(f"share transaction {cancelled}")
                    )
                for position, earlier in reading.duplicates.items():
                    result.settled[pending[position]] = duplicate_of(group[position], earlier)
                fresh = [pending[index] for index in range(len(group)) if index not in reading.duplicates]
                if reading.item_refused:
                    result.item_after = reading.item_image
                    if reading.item_image is None:  # gone: no share sent with it can apply
                        result.settled.update(dict.fromkeys(fresh, ITEM_NOT_FOUND))
                        fresh = []
                    elif 0 not in reading.duplicates:
                        result.settled[fresh.pop(0)] = UNAUTHORIZED
                    result.left_over = fresh + result.left_over
                    return result
                if reading.contention:
                    failure = self._wait_to_retry(
                        result, f"cancelled for {', '.join(reading.contention)}", on_retry
                    )
                    if failure:
                        result.failure = failure
                        return result
                elif not reading.duplicates:
                    result.failure = RetryableProcessingError(f"share transaction cancelled: {cancelled}")
                    return result
                pending = fresh
            except Throttled as throttled:
                failure = self._wait_to_retry(result, str(throttled), on_retry)
                if failure:
                    result.failure = failure
                    return result
            except RequestRejected as rejected:
                return _refused(result, pending, rejected)
            except RetryableProcessingError as error:
                result.failure = error
                return result
            else:
                result.settled.update(dict.fromkeys(pending, APPLIED))
                result.item_after = {**item, "IsPublic": True}
                return result
        return result

    def _wait_to_retry(
        self, result: CommitResult, why: str, on_retry: Callable[[], None]
    ) -> RetryableProcessingError | None:
        """Wait before the next try, counted in ``result``; the error to report when there is none.

        Inside an invocation only its time budget ends the retries; outside one, ``max_retries``.
        """
        retry = result.retries + 1
        if retry > self.backoff.max_retries and not deadline.in_force():
            return ContentionExhausted(f"share transaction {why}, still after {result.retries} retries")
        try:
            deadline.pause(self.backoff.delay_s(retry), "retry of a share transaction")
        except DeadlineApproaching as late:
            return ContentionExhausted(
                f"share transaction {why} after {result.retries} retries, no time left for another "
                f"({late.remaining_ms} ms left)"
            )
        result.retries = retry
        on_retry()
        return None

    def _fitting(self, item: Item, events: Sequence[ShareEvent]) -> int:
        """How many of ``events`` fit in one transaction (100 actions, 4 MB), at least one."""
        size = estimated_size(item)
        for count, event in enumerate(events[:MAX_SHARES_PER_TRANSACTION]):
            size += self._writes(event, item, self.clock()).size()
            if size > MAX_TRANSACTION_BYTES and count:
                return count
        return min(len(events), MAX_SHARES_PER_TRANSACTION)

    def _send(self, item: Item, group: Sequence[ShareEvent]) -> None:
        self.dynamodb_service.transact_write(self.transaction(item, group))

    def transaction(self, item: Item, group: Sequence[ShareEvent]) -> list[dict[str, Any]]:
        """The actions of the one transaction that applies ``group``, new shares of ``item``."""
        moment = self.clock()
        first = group[0]
        return transaction_actions(
            self.dynamodb_service.table_name,
            first.item_id,
            first.user_id,
            [self._writes(event, item, moment) for event in group],
            format_utc(moment),
        )

    def _writes(self, event: ShareEvent, item: Item, moment: datetime) -> ShareWrites:
        now = format_utc(moment)
        marker = {
            **marker_key(event.event_id),
            "EventId": event.event_id,
            "ItemId": event.item_id,
            "UserId": event.user_id,
            "ProcessedAt": now,
            "ExpiresAt": int((moment + self.dedup_ttl).timestamp()),
        }
        activity = self.activity_service.build_share_activity(
            user_id=event.user_id,
            item_id=event.item_id,
            item_name=str(item.get("Name", "")),
            shared_at=event.shared_at,
            event_id=event.event_id,
            created_at=now,
        )
        return ShareWrites(marker=marker, activity=activity)


def _refused(result: CommitResult, pending: list[int], error: RetryableProcessingError) -> CommitResult:
    """A group refused for a reason that is neither contention nor a condition: one share alone fails
    with ``error``; several come back to be sent one by one, so only the share at fault fails."""
    if len(pending) == 1:
        result.failure = error
    else:
        result.left_over = pending + result.left_over
        result.one_by_one = True
    return result
