"""Batches above ten records, which Lambda delivers with a batching window (up to 10,000 from a
standard queue): 100 records through ``lambda_handler`` against the embedded server."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.integration.batches import shared_count

pytestmark = pytest.mark.integration

SPREAD_ITEMS = [f"item-{index}" for index in range(8)]
HOT_ITEM = "viral-item"
USERS = [f"user-{index}" for index in range(7)]


def hundred_shares() -> list[tuple[str, str, str]]:
    """(itemId, userId, eventId): 5 shares on each of 8 items, then 60 on one item, whose group of
    121 writes is more than one transaction holds."""
    spread = [SPREAD_ITEMS[index % 8] for index in range(40)]
    items = spread + [HOT_ITEM] * 60
    return [(item, USERS[index % len(USERS)], f"big-{index:03d}") for index, item in enumerate(items)]


@pytest.fixture
def shares(share_table: ShareTable) -> list[tuple[str, str, str]]:
    for item_id in [*SPREAD_ITEMS, HOT_ITEM]:
        share_table.put_item(item_id, owner="owner", public=True)
    return hundred_shares()


def batch_of(shares: list[tuple[str, str, str]]) -> dict[str, Any]:
    return sqs_event(
        *(sqs_record(share_body(item, user, event), message_id=f"m-{event}") for item, user, event in shares)
    )


def test_a_batch_of_100_records_counts_each_share_once_with_its_feed_entry_and_marker(
    share_table: ShareTable, handler_module: Any, shares: list[tuple[str, str, str]]
) -> None:
    response = handler_module.lambda_handler(batch_of(shares), None)

    assert failed_ids(response) == []
    per_item = Counter(item for item, _, _ in shares)
    assert {item: shared_count(share_table, item) for item in per_item} == per_item
    assert per_item[HOT_ITEM] == 60
    feed = share_table.records_with_prefix("USER#")
    assert Counter(entry["UserId"] for entry in feed) == Counter(user for _, user, _ in shares)
    assert sorted((entry["ItemId"], entry["UserId"], entry["EventId"]) for entry in feed) == sorted(shares)
    markers = share_table.records_with_prefix("EVENT#")
    assert sorted((m["ItemId"], m["UserId"], m["EventId"]) for m in markers) == sorted(shares)


def test_the_same_100_records_redelivered_change_nothing(
    share_table: ShareTable, handler_module: Any, shares: list[tuple[str, str, str]]
) -> None:
    batch = batch_of(shares)
    handler_module.lambda_handler(batch, None)
    before = sorted(share_table.all_records(), key=lambda record: (record["PK"], record["SK"]))

    response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert sorted(share_table.all_records(), key=lambda record: (record["PK"], record["SK"])) == before
