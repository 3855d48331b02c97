"""What one batch needs to know before writing, read with ONE request before any record starts.

A strongly consistent ``BatchGetItem`` (chunked at 100 keys) reads every item and every dedup
marker the batch names. Known duplicates and shares of missing items are settled from it without
any write, and it tells whether an item can take a whole group of shares in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.dynamodb_service import DynamoDBService, Item
from services.keys import ITEM_SK, MARKER_SK, item_key, marker_key
from services.share_event import ShareEvent


@dataclass(frozen=True)
class BatchSnapshot:
    items: Mapping[str, Item]
    """Item id to the item's record, for the items that existed."""
    markers: Mapping[str, Item]
    """Event id to its dedup marker, for the events already applied."""


def read_snapshot(dynamodb_service: DynamoDBService, events: Iterable[ShareEvent]) -> BatchSnapshot:
    events = list(events)
    if not events:
        return BatchSnapshot(items={}, markers={})
    item_ids = {item_key(event.item_id)["PK"]: event.item_id for event in events}
    event_ids = {marker_key(event.event_id)["PK"]: event.event_id for event in events}
    keys = [item_key(item_id) for item_id in item_ids.values()]
    keys += [marker_key(event_id) for event_id in event_ids.values()]
    items: dict[str, Item] = {}
    markers: dict[str, Item] = {}
    for (partition_key, sort_key), record in dynamodb_service.batch_get(keys).items():
        if sort_key == ITEM_SK and partition_key in item_ids:
            items[item_ids[partition_key]] = record
        elif sort_key == MARKER_SK and partition_key in event_ids:
            markers[event_ids[partition_key]] = record
    return BatchSnapshot(items=items, markers=markers)
