"""Settings from the environment, and the services' public API with test doubles."""

from __future__ import annotations

from typing import Any

import pytest

from services.activity_service import ActivityService, InvalidCursor
from services.bootstrap import build_worker
from services.config import Settings
from services.dynamodb_service import DynamoDBService
from services.errors import ConfigurationError


def test_missing_table_name_is_a_clear_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME is not set"):
        Settings.from_env({})


def test_settings_read_optional_values() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t", "DEDUP_TTL_DAYS": "21", "DEADLINE_MARGIN_MS": "5000"})

    assert (settings.table_name, settings.dedup_ttl_days, settings.deadline_margin_ms) == ("t", 21, 5000)


@pytest.mark.parametrize("days", ["1", "13"])
def test_a_dedup_ttl_shorter_than_the_queues_retention_is_refused(days: str) -> None:
    with pytest.raises(ConfigurationError, match="DEDUP_TTL_DAYS must be at least 14"):
        Settings.from_env({"TABLE_NAME": "t", "DEDUP_TTL_DAYS": days})


@pytest.mark.parametrize("days", ["366", "3000000"])
def test_a_dedup_ttl_beyond_the_template_s_bound_is_refused_at_start_up(days: str) -> None:
    """Far beyond it, every share would fail: its marker's expiry date no longer fits a date."""
    with pytest.raises(ConfigurationError, match="DEDUP_TTL_DAYS must be at most 365"):
        Settings.from_env({"TABLE_NAME": "t", "DEDUP_TTL_DAYS": days})


def test_a_deadline_margin_that_one_sdk_attempt_could_outlast_is_refused_at_start_up() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t", "DEADLINE_MARGIN_MS": "3000"})

    with pytest.raises(ConfigurationError, match=r"DEADLINE_MARGIN_MS=3000 is too small.*at least 4500"):
        build_worker(settings)


@pytest.mark.parametrize("value", ["seven", "0", "-3"])
def test_malformed_numbers_are_rejected(value: str) -> None:
    with pytest.raises(ConfigurationError, match="DEDUP_TTL_DAYS"):
        Settings.from_env({"TABLE_NAME": "t", "DEDUP_TTL_DAYS": value})


class FakeTable:
    """Just enough of a boto3 Table for the read path."""

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items
        self.requests: list[dict[str, Any]] = []

    def get_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        item = self.items.get(request["Key"]["PK"])
        return {"Item": item} if item else {}


def test_get_item_returns_the_item_or_none_with_a_replaced_table() -> None:
    service = DynamoDBService("test-table", table=FakeTable({"ITEM#123": {"PK": "ITEM#123"}}))  # type: ignore[arg-type]

    assert service.get_item("123") == {"PK": "ITEM#123"}
    assert service.get_item("456") is None


def test_table_attribute_can_be_swapped_after_construction() -> None:
    """The product owner's unit-test style: build the service, then replace ``table``."""
    service = DynamoDBService("test-table", table=FakeTable({}))  # type: ignore[arg-type]
    service.table = FakeTable({"ITEM#123": {"PK": "ITEM#123"}})  # type: ignore[assignment]

    assert service.get_item("123") == {"PK": "ITEM#123"}


@pytest.mark.parametrize("cursor", ["%%%", "bm90LWpzb24", "eyJQSyI6IlVTRVIjb3RoZXIiLCJTSyI6IkEifQ"])
def test_foreign_or_malformed_feed_cursor_is_refused(cursor: str) -> None:
    service = ActivityService(DynamoDBService("t", table=FakeTable({})))  # type: ignore[arg-type]

    with pytest.raises(InvalidCursor):
        service.list_user_activity("user123", cursor=cursor)
