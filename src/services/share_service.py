"""Applying one share event: the decision, the single transaction and what its cancellation means."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.activity_service import ActivityService
from services.batch_reads import BatchReads
from services.dynamodb_service import (
    ITEM_SHAREABLE_CONDITION,
    CancellationReason,
    DynamoDBService,
    Item,
    TransactionCancelled,
)
from services.errors import RetryableProcessingError
from services.keys import item_key, marker_key
from services.outcomes import Outcome
from services.share_event import ShareEvent
from services.timestamps import format_utc, utc_now

MARKER_ACTION, ITEM_ACTION, ACTIVITY_ACTION = 0, 1, 2
CONDITION_FAILED = "ConditionalCheckFailed"
NO_FAILURE = "None"


class ShareService:
    def __init__(
        self,
        dynamodb_service: DynamoDBService,
        activity_service: ActivityService,
        *,
        dedup_ttl: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.dynamodb_service = dynamodb_service
        self.activity_service = activity_service
        self.dedup_ttl = dedup_ttl
        self.clock = clock

    def reads_for(self, events: Sequence[ShareEvent]) -> BatchReads:
        """The lazily loaded snapshot that :meth:`apply` consults for these events."""
        return BatchReads(self.dynamodb_service, events)

    def apply(self, event: ShareEvent, reads: BatchReads | None = None) -> Outcome:
        """Apply ``event`` exactly once; returns how it ended or raises ``RetryableProcessingError``."""
        reads = reads if reads is not None else self.reads_for([event])
        if reads.is_applied(event.event_id):
            return Outcome.DUPLICATE
        item = reads.item(event.item_id)
        if item is None:
            return Outcome.ITEM_NOT_FOUND
        try:
            self.dynamodb_service.transact_write(self.share_transaction(event, item))
        except TransactionCancelled as cancelled:
            return outcome_of_cancellation(cancelled.reasons)
        reads.note_applied(event)
        return Outcome.APPLIED

    def share_transaction(self, event: ShareEvent, item: Item) -> list[dict[str, Any]]:
        """Dedup marker, item update and feed entry: all three happen, or none does.

        The order of the actions is the order of ``CancellationReasons``; see
        :func:`outcome_of_cancellation`.
        """
        table = self.dynamodb_service.table_name
        moment = self.clock()
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
        return [
            {"Put": {"TableName": table, "Item": marker, "ConditionExpression": "attribute_not_exists(PK)"}},
            {
                "Update": {
                    "TableName": table,
                    "Key": item_key(event.item_id),
                    "UpdateExpression": "SET IsPublic = :true, UpdatedAt = :now ADD SharedCount :one",
                    "ConditionExpression": ITEM_SHAREABLE_CONDITION,
                    "ExpressionAttributeValues": {
                        ":true": True,
                        ":now": now,
                        ":one": 1,
                        ":user": event.user_id,
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": activity,
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]


def outcome_of_cancellation(reasons: Sequence[CancellationReason]) -> Outcome:
    """Map a cancelled share transaction to its outcome, from the reason codes alone.

    Any reason other than a failed condition (``TransactionConflict``, throttling, ...) means the
    outcome is not known yet, so the record is retried rather than guessed.
    """
    codes = [str(reason.get("Code") or NO_FAILURE) for reason in reasons]
    transient = [code for code in codes if code not in (NO_FAILURE, CONDITION_FAILED)]
    if transient or len(codes) != 3:
        raise RetryableProcessingError(f"share transaction cancelled: {codes}")
    if codes[MARKER_ACTION] == CONDITION_FAILED or codes[ACTIVITY_ACTION] == CONDITION_FAILED:
        return Outcome.DUPLICATE
    if codes[ITEM_ACTION] == CONDITION_FAILED:
        return Outcome.UNAUTHORIZED if reasons[ITEM_ACTION].get("Item") else Outcome.ITEM_NOT_FOUND
    raise RetryableProcessingError(f"share transaction cancelled without a failed condition: {codes}")
