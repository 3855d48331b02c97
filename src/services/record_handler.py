"""One SQS record: parsed at the edge, then, once the batch is done, logged and counted as it ended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.errors import DeadlineApproaching, InvalidShareEvent, SkippedAfterGroupFailure
from services.outcomes import (
    PROCESSING_ERRORS_METRIC,
    REUSED_EVENT_IDS_METRIC,
    VALIDATION_ERRORS_METRIC,
    Outcome,
    Settlement,
)
from services.share_event import ShareEvent, parse_share_event
from services.telemetry import count, logger
from services.timestamps import utc_now

OUTCOME_LOG = {
    Outcome.APPLIED: "Share applied",
    Outcome.DUPLICATE: "Duplicate share event skipped: this eventId was already applied",
    Outcome.ITEM_NOT_FOUND: "Share skipped: the item does not exist",
    Outcome.UNAUTHORIZED: "Share refused: the item is private and the sharer is not its owner",
}
DEADLINE_LOG = "Too little invocation time left: record left for SQS to retry"
SKIPPED_LOG = "Record not attempted: an earlier record of its message group failed; left for SQS to retry"
REUSED_LOG = (
    "Reused eventId: it was applied earlier for another item or user (a producer bug); nothing written"
)

ParsedRecord = ShareEvent | InvalidShareEvent


class ShareRecordHandler:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    def parse(self, record: SQSRecord) -> ParsedRecord:
        """The record's event, or the validation error it is reported with."""
        try:
            return parse_share_event(record.get("body"), now=self.clock())
        except InvalidShareEvent as error:
            return error

    def report(self, record: SQSRecord, parsed: ParsedRecord, result: Settlement | Exception) -> list[str]:
        """Log and count how the record ended, with its message id (and the event's ids when valid).

        Returns the metrics it counted, for the batch's trace annotations.
        """
        context: dict[str, Any] = {"message_id": record.get("messageId")}
        if isinstance(parsed, ShareEvent):
            context.update(event_id=parsed.event_id, item_id=parsed.item_id, user_id=parsed.user_id)
        if isinstance(result, Settlement):
            return self._report_settled(result, context)
        if isinstance(result, InvalidShareEvent):
            logger.error(f"Invalid share event: {result}", extra=context)
            return _counted(VALIDATION_ERRORS_METRIC)
        if isinstance(result, DeadlineApproaching):
            logger.warning(
                DEADLINE_LOG, extra={**context, "reason": str(result), "remaining_ms": result.remaining_ms}
            )
            return []
        if isinstance(result, SkippedAfterGroupFailure):
            logger.warning(SKIPPED_LOG, extra={**context, "message_group_id": _message_group(record)})
            return []
        logger.error(f"Share event failed and will be retried: {result}", extra=context, exc_info=result)
        return _counted(PROCESSING_ERRORS_METRIC)

    @staticmethod
    def _report_settled(settlement: Settlement, context: dict[str, Any]) -> list[str]:
        counted = _counted(settlement.outcome.metric_name)
        if settlement.reused_from is not None:
            counted += _counted(REUSED_EVENT_IDS_METRIC)
            logger.warning(
                REUSED_LOG,
                extra={
                    **context,
                    "earlier_item_id": settlement.reused_from.get("ItemId"),
                    "earlier_user_id": settlement.reused_from.get("UserId"),
                },
            )
        outcome = settlement.outcome
        log = logger.info if outcome in (Outcome.APPLIED, Outcome.DUPLICATE) else logger.warning
        log(OUTCOME_LOG[outcome], extra={**context, "outcome": outcome.name})
        return counted


def _counted(metric_name: str) -> list[str]:
    count(metric_name)
    return [metric_name]


def _message_group(record: SQSRecord) -> str | None:
    attributes: dict[str, Any] = record.get("attributes") or {}
    return attributes.get("MessageGroupId")
