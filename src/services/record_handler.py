"""One SQS record: parsed at the edge, then, once the batch is done, logged and counted as it ended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.dynamodb_service import error_code_of
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

    def report(
        self,
        record: SQSRecord,
        parsed: ParsedRecord,
        result: Settlement | Exception,
        *,
        log: bool = True,
        traceback: bool = False,
    ) -> list[str]:
        """Count how the record ended and, with ``log``, log it with its message id (and the event's
        ids when valid); ``traceback`` adds the error's traceback. Returns the metrics counted."""
        counted = _metrics_of(result)
        for metric_name in counted:
            count(metric_name)
        if log:
            self._log(record, parsed, result, traceback)
        return counted

    @staticmethod
    def _log(
        record: SQSRecord, parsed: ParsedRecord, result: Settlement | Exception, traceback: bool
    ) -> None:
        context: dict[str, Any] = {"message_id": record.get("messageId")}
        if isinstance(parsed, ShareEvent):
            context.update(event_id=parsed.event_id, item_id=parsed.item_id, user_id=parsed.user_id)
        if isinstance(result, Settlement):
            if result.reused_from is not None:
                earlier = {
                    "earlier_item_id": result.reused_from.get("ItemId"),
                    "earlier_user_id": result.reused_from.get("UserId"),
                }
                logger.warning(REUSED_LOG, extra={**context, **earlier})
            outcome = result.outcome
            log = logger.info if outcome in (Outcome.APPLIED, Outcome.DUPLICATE) else logger.warning
            log(OUTCOME_LOG[outcome], extra={**context, "outcome": outcome.name})
        elif isinstance(result, InvalidShareEvent):
            logger.error(f"Invalid share event: {result}", extra=context)
        elif isinstance(result, DeadlineApproaching):
            logger.warning(
                DEADLINE_LOG, extra={**context, "reason": str(result), "remaining_ms": result.remaining_ms}
            )
        elif isinstance(result, SkippedAfterGroupFailure):
            logger.warning(SKIPPED_LOG, extra={**context, "message_group_id": _message_group(record)})
        else:
            logger.error(
                f"Share event failed and will be retried: {result}",
                extra={**context, "error_code": error_code_of(result)},
                exc_info=result if traceback else None,
            )


def _metrics_of(result: Settlement | Exception) -> list[str]:
    """The metrics a record ending with ``result`` is counted under."""
    if isinstance(result, Settlement):
        reused = [REUSED_EVENT_IDS_METRIC] if result.reused_from is not None else []
        return [result.outcome.metric_name, *reused]
    if isinstance(result, InvalidShareEvent):
        return [VALIDATION_ERRORS_METRIC]
    if isinstance(result, DeadlineApproaching | SkippedAfterGroupFailure):
        return []
    return [PROCESSING_ERRORS_METRIC]


def _message_group(record: SQSRecord) -> str | None:
    attributes: dict[str, Any] = record.get("attributes") or {}
    return attributes.get("MessageGroupId")
