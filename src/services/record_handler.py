"""One SQS record in, one outcome out: parse, apply, log and count."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.batch_reads import BatchReads
from services.errors import InvalidShareEvent
from services.outcomes import PROCESSING_ERRORS_METRIC, VALIDATION_ERRORS_METRIC, Outcome
from services.share_event import ShareEvent, parse_share_event
from services.share_service import ShareService
from services.telemetry import count, logger
from services.timestamps import utc_now

OUTCOME_LOG = {
    Outcome.APPLIED: "Share applied",
    Outcome.DUPLICATE: "Duplicate share event skipped: this eventId was already applied",
    Outcome.ITEM_NOT_FOUND: "Share skipped: the item does not exist",
    Outcome.UNAUTHORIZED: "Share refused: the item is private and the sharer is not its owner",
}

ParsedRecord = ShareEvent | InvalidShareEvent


class ShareRecordHandler:
    def __init__(self, share_service: ShareService, clock: Callable[[], datetime] = utc_now) -> None:
        self.share_service = share_service
        self.clock = clock

    def parse(self, record: SQSRecord) -> ParsedRecord:
        """The record's event, or the validation error to raise when the record is handled."""
        try:
            return parse_share_event(record.get("body"), now=self.clock())
        except InvalidShareEvent as error:
            return error

    def reads_for(self, parsed: Sequence[ParsedRecord]) -> BatchReads:
        return self.share_service.reads_for([event for event in parsed if isinstance(event, ShareEvent)])

    def handle(self, record: SQSRecord, parsed: ParsedRecord, reads: BatchReads) -> Outcome:
        """Apply one record. Raises (after logging and counting) when SQS must retry it."""
        context: dict[str, Any] = {"message_id": record.get("messageId")}
        if isinstance(parsed, InvalidShareEvent):
            count(VALIDATION_ERRORS_METRIC)
            logger.error(f"Invalid share event: {parsed}", extra=context)
            raise parsed
        context.update(event_id=parsed.event_id, item_id=parsed.item_id, user_id=parsed.user_id)
        try:
            outcome = self.share_service.apply(parsed, reads)
        except Exception as error:
            count(PROCESSING_ERRORS_METRIC)
            logger.exception(f"Share event failed and will be retried: {error}", extra=context)
            raise
        count(outcome.metric_name)
        log = logger.info if outcome in (Outcome.APPLIED, Outcome.DUPLICATE) else logger.warning
        log(OUTCOME_LOG[outcome], extra={**context, "outcome": outcome.name})
        return outcome
