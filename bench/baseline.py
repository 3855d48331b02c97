"""The product owner's straightforward design, kept only as the benchmarks' reference.

For every record of the batch, one after another: ``GetItem`` (does the item exist?), ``UpdateItem``
(``ADD SharedCount``, ``SET IsPublic``/``UpdatedAt``), ``PutItem`` (the feed entry): three sequential
round trips per record, through Powertools' plain ``BatchProcessor``. There is no dedup marker, so a
redelivered event is counted again; the benchmarks show that too. Never deployed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.activity_service import ActivityService
from services.dynamodb_service import DynamoDBService
from services.share_event import parse_share_event
from services.timestamps import format_utc, utc_now


class SequentialBaseline:
    """``baseline(event)`` handles an SQS batch the straightforward way and returns its failures."""

    def __init__(self, dynamodb_service: DynamoDBService, clock: Callable[[], datetime] = utc_now) -> None:
        self.dynamodb_service = dynamodb_service
        self.activity_service = ActivityService(dynamodb_service)
        self.clock = clock
        self.processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return dict(
            process_partial_response(event=event, record_handler=self.share, processor=self.processor)
        )

    def share(self, record: SQSRecord) -> str:
        event = parse_share_event(record.body, now=self.clock())
        item = self.dynamodb_service.get_item(event.item_id)
        if item is None:
            return "item not found"
        updated = self.dynamodb_service.update_item_shared_count(
            event.item_id, event.user_id, format_utc(self.clock())
        )
        if updated is None:
            return "refused by the owner rule"
        self.activity_service.create_share_activity(
            user_id=event.user_id,
            item_id=event.item_id,
            item_name=str(item.get("Name", "")),
            shared_at=event.shared_at,
        )
        return "applied"
