"""The design the worker replaces, the way it drifts: per record ``GetItem``, ``UpdateItem``
(``ADD SharedCount 1``), ``PutItem`` of the feed entry keyed by the event's ``sharedAt`` and
``eventId``, no dedup marker.

A redelivered message is counted twice and writes the same feed entry twice (the second ``PutItem``
overwrites the first): one entry in the ledger, two in the count, as a table migrated from that
design carries. (``bench.baseline.SequentialBaseline`` gives each feed entry a new id instead, so a
redelivery there writes two entries and its counts agree with its feed.)
"""

from __future__ import annotations

from collections.abc import Iterable

from services.activity_service import ActivityService
from services.dynamodb_service import DynamoDBService
from services.share_event import parse_share_event
from services.timestamps import format_utc, utc_now


def apply_naively(table: DynamoDBService, bodies: Iterable[str]) -> None:
    """Each body in turn, as the naive design would (redeliveries are bodies given again)."""
    for body in bodies:
        event = parse_share_event(body, now=utc_now())
        item = table.get_item(event.item_id)
        if (
            item is None
            or table.update_item_shared_count(event.item_id, event.user_id, format_utc(utc_now())) is None
        ):
            continue
        table.put_item(
            ActivityService.build_share_activity(
                user_id=event.user_id,
                item_id=event.item_id,
                item_name=str(item.get("Name", "")),
                shared_at=event.shared_at,
                event_id=event.event_id,
                created_at=format_utc(utc_now()),
            )
        )
