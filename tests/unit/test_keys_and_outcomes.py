"""Key building and what the reasons of a cancelled share transaction say."""

from __future__ import annotations

from typing import Any

import pytest

from services.keys import activity_key, item_key, marker_key
from services.outcomes import Outcome
from services.share_transaction import read_cancellation


def test_keys_follow_the_single_table_design() -> None:
    assert item_key("test-item") == {"PK": "ITEM#test-item", "SK": "METADATA"}
    assert marker_key("test-event") == {"PK": "EVENT#test-event", "SK": "EVENT"}
    assert activity_key("user123", "2025-11-13T10:30:00.000Z", "e-1") == {
        "PK": "USER#user123",
        "SK": "ACTIVITY#2025-11-13T10:30:00.000Z#e-1",
    }


FAILED: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
OK: dict[str, Any] = {"Code": "None"}
OLD_ITEM = {"PK": {"S": "ITEM#x"}, "IsPublic": {"BOOL": False}, "UserId": {"S": "owner"}}
OLD_MARKER = {"PK": {"S": "EVENT#e"}, "ItemId": {"S": "x"}, "UserId": {"S": "u1"}}


def test_a_failed_marker_or_feed_condition_makes_that_share_a_duplicate_with_what_was_found() -> None:
    # item, then (marker, feed entry) per share
    reading = read_cancellation([OK, OK, OK, {**FAILED, "Item": OLD_MARKER}, OK, OK, FAILED], shares=3)

    assert reading.duplicates == {1: {"PK": "EVENT#e", "ItemId": "x", "UserId": "u1"}, 2: None}
    assert not reading.item_refused and not reading.contention and not reading.unexpected


@pytest.mark.parametrize(("image", "expected"), [(None, None), (OLD_ITEM, "owner")])
def test_a_failed_item_condition_carries_the_item_as_dynamodb_saw_it(
    image: dict[str, Any] | None, expected: str | None
) -> None:
    reason = {**FAILED, "Item": image} if image else FAILED
    reading = read_cancellation([reason, OK, OK], shares=1)

    assert reading.item_refused and reading.duplicates == {}
    assert (reading.item_image or {}).get("UserId") == expected
    assert reading.item_image is None or reading.item_image["IsPublic"] is False


@pytest.mark.parametrize("code", ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"])
def test_conflicts_and_throttling_are_contention_to_retry(code: str) -> None:
    reading = read_cancellation([OK, {"Code": code}, OK, OK, {"Code": code}], shares=2)

    assert reading.contention == (code, code) and not reading.unexpected and not reading.duplicates


@pytest.mark.parametrize(
    "reasons",
    [
        [OK, {"Code": "ValidationError"}, OK],
        [{"Code": "ItemCollectionSizeLimitExceeded"}, OK, OK],
        [OK, OK],
        [],
    ],
)
def test_unknown_reasons_are_never_guessed(reasons: list[dict[str, Any]]) -> None:
    assert read_cancellation(reasons, shares=1).unexpected


def test_every_outcome_has_the_metric_name_of_the_design() -> None:
    assert {outcome.metric_name for outcome in Outcome} == {
        "ShareEventsProcessed",
        "DuplicateEvents",
        "ItemNotFound",
        "UnauthorizedShares",
    }
