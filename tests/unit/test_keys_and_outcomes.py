"""Key building and the mapping from transaction cancellation reasons to outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from services.errors import RetryableProcessingError
from services.keys import activity_key, item_key, marker_key
from services.outcomes import Outcome
from services.share_service import outcome_of_cancellation


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


@pytest.mark.parametrize(
    ("reasons", "outcome"),
    [
        ([FAILED, OK, OK], Outcome.DUPLICATE),
        ([FAILED, {**FAILED, "Item": OLD_ITEM}, OK], Outcome.DUPLICATE),
        ([OK, OK, FAILED], Outcome.DUPLICATE),
        ([OK, FAILED, OK], Outcome.ITEM_NOT_FOUND),
        ([OK, {**FAILED, "Item": OLD_ITEM}, OK], Outcome.UNAUTHORIZED),
    ],
)
def test_failed_conditions_map_to_outcomes(reasons: list[dict[str, Any]], outcome: Outcome) -> None:
    assert outcome_of_cancellation(reasons) is outcome


@pytest.mark.parametrize(
    "reasons",
    [
        [{"Code": "TransactionConflict"}, OK, OK],
        [OK, {"Code": "TransactionConflict"}, OK],
        [FAILED, {"Code": "ThrottlingError"}, OK],
        [OK, OK, {"Code": "ProvisionedThroughputExceeded"}],
        [OK, OK, OK],
        [],
    ],
)
def test_conflicts_throttling_and_unknown_reasons_are_retried_not_guessed(
    reasons: list[dict[str, Any]],
) -> None:
    with pytest.raises(RetryableProcessingError):
        outcome_of_cancellation(reasons)


def test_every_outcome_has_the_metric_name_of_the_design() -> None:
    assert {outcome.metric_name for outcome in Outcome} == {
        "ShareEventsProcessed",
        "DuplicateEvents",
        "ItemNotFound",
        "UnauthorizedShares",
    }
