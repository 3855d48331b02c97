"""The activity feed: one entry per applied share, read newest first with an opaque cursor."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any

from services.dynamodb_service import DynamoDBService, Item
from services.errors import ShareWorkerError
from services.keys import ACTIVITY_PREFIX, activity_key, user_pk
from services.timestamps import format_utc, utc_now

SHARE_ACTIVITY_TYPE = "SHARE"
MAX_PAGE_SIZE = 100


class InvalidCursor(ShareWorkerError):
    """A feed cursor that this service did not produce, or one for another user."""


@dataclass(frozen=True)
class ActivityPage:
    entries: list[Item]
    next_cursor: str | None


class ActivityService:
    def __init__(self, dynamodb_service: DynamoDBService) -> None:
        self.dynamodb_service = dynamodb_service

    @staticmethod
    def build_share_activity(
        *, user_id: str, item_id: str, item_name: str, shared_at: str, event_id: str, created_at: str
    ) -> Item:
        """The feed entry for one share (``shared_at`` already normalised UTC text)."""
        return {
            **activity_key(user_id, shared_at, event_id),
            "Type": SHARE_ACTIVITY_TYPE,
            "UserId": user_id,
            "ItemId": item_id,
            "ItemName": item_name,
            "SharedAt": shared_at,
            "EventId": event_id,
            "CreatedAt": created_at,
        }

    def create_share_activity(
        self, *, user_id: str, item_id: str, item_name: str, shared_at: str, event_id: str | None = None
    ) -> Item:
        """Write one feed entry on its own (the worker writes it inside its share transaction)."""
        entry = self.build_share_activity(
            user_id=user_id,
            item_id=item_id,
            item_name=item_name,
            shared_at=shared_at,
            event_id=event_id or str(uuid.uuid4()),
            created_at=format_utc(utc_now()),
        )
        self.dynamodb_service.put_item(entry, condition="attribute_not_exists(PK)")
        return entry

    def list_user_activity(self, user_id: str, limit: int = 20, cursor: str | None = None) -> ActivityPage:
        """One page of ``user_id``'s feed, newest first; pass ``next_cursor`` back for the next page."""
        page_size = max(1, min(limit, MAX_PAGE_SIZE))
        start_key = _decode_cursor(cursor, user_id) if cursor else None
        entries, last_key = self.dynamodb_service.query_page(
            user_pk(user_id), ACTIVITY_PREFIX, page_size, start_key
        )
        return ActivityPage(entries=entries, next_cursor=_encode_cursor(last_key) if last_key else None)


def _encode_cursor(last_key: dict[str, Any]) -> str:
    raw = json.dumps({"PK": last_key["PK"], "SK": last_key["SK"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, user_id: str) -> dict[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the feed cursor is malformed") from None
    if not isinstance(key, dict) or key.get("PK") != user_pk(user_id) or not isinstance(key.get("SK"), str):
        raise InvalidCursor("the feed cursor does not belong to this user's feed")
    return {"PK": key["PK"], "SK": key["SK"]}
