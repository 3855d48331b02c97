"""What one batch needs to know before writing, read with as few requests as possible.

The first record that asks triggers ONE strongly consistent ``BatchGetItem`` for every item and
every dedup marker the batch names; the other records (on other threads) wait for it and then
read the snapshot. Duplicates and missing items are settled from it without any write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from services.dynamodb_service import DynamoDBService, Item
from services.errors import RetryableProcessingError
from services.keys import ITEM_SK, MARKER_SK, item_key, marker_key
from services.share_event import ShareEvent


class BatchReads:
    def __init__(self, dynamodb_service: DynamoDBService, events: Iterable[ShareEvent]) -> None:
        self._dynamodb_service = dynamodb_service
        self._events = list(events)
        self._lock = threading.Lock()
        self._loaded = False
        self._failure: Exception | None = None
        self._items: dict[str, Item] = {}
        self._applied_event_ids: set[str] = set()

    def item(self, item_id: str) -> Item | None:
        """The item as read at the start of this batch, or ``None`` when it did not exist.

        Only its existence and ``Name`` are relied on: the owner rule and the count are settled by
        the share transaction's condition, never by this snapshot.
        """
        self._load()
        return self._items.get(item_id)

    def is_applied(self, event_id: str) -> bool:
        self._load()
        return event_id in self._applied_event_ids

    def note_applied(self, event: ShareEvent) -> None:
        """Remember an event applied in this batch, so a later copy of it is settled without a write."""
        self._applied_event_ids.add(event.event_id)

    def _load(self) -> None:
        with self._lock:
            if self._failure is not None:
                # A fresh error per record: one shared instance re-raised on several threads would
                # collect every thread's frames in its traceback.
                raise RetryableProcessingError(f"the batch's read failed: {self._failure}") from self._failure
            if self._loaded:
                return
            item_ids = {item_key(event.item_id)["PK"]: event.item_id for event in self._events}
            event_ids = {marker_key(event.event_id)["PK"]: event.event_id for event in self._events}
            keys = [item_key(item_id) for item_id in item_ids.values()]
            keys += [marker_key(event_id) for event_id in event_ids.values()]
            try:
                found = self._dynamodb_service.batch_get(keys)
            except Exception as error:
                self._failure = error
                raise
            for (partition_key, sort_key), record in found.items():
                if sort_key == ITEM_SK and partition_key in item_ids:
                    self._items[item_ids[partition_key]] = record
                elif sort_key == MARKER_SK and partition_key in event_ids:
                    self._applied_event_ids.add(event_ids[partition_key])
            self._loaded = True
