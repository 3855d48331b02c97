"""Every row of DESIGN.md's outcomes table, through ``lambda_handler`` against the moto server."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record

pytestmark = pytest.mark.integration


def _only_item_changed(share_table: ShareTable) -> list[dict[str, Any]]:
    return [record for record in share_table.all_records() if not str(record["PK"]).startswith("ITEM#")]


def test_owner_share_applies_count_visibility_activity_and_marker(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("test-item", owner="user123", public=False, count=2, name="Denim jacket")
    body = share_body(event_id="test-event", shared_at="2025-11-13T11:30:00+01:00")

    response = handler_module.lambda_handler(sqs_event(sqs_record(body, "m-1")), None)

    assert response == {"batchItemFailures": []}
    item = share_table.item("test-item")
    assert item is not None
    assert item["SharedCount"] == Decimal(3)
    assert item["IsPublic"] is True
    assert item["UpdatedAt"].endswith("Z") and len(item["UpdatedAt"]) == 24
    [activity] = share_table.records_with_prefix("USER#")
    assert activity["PK"] == "USER#user123"
    assert activity["SK"] == "ACTIVITY#2025-11-13T10:30:00.000Z#test-event"
    assert activity["Type"] == "SHARE"
    assert activity["ItemName"] == "Denim jacket"
    assert activity["SharedAt"] == "2025-11-13T10:30:00.000Z"
    [marker] = share_table.records_with_prefix("EVENT#")
    assert marker["PK"] == "EVENT#test-event" and marker["SK"] == "EVENT"
    assert marker["ItemId"] == "test-item" and marker["UserId"] == "user123"
    assert int(marker["ExpiresAt"]) > 0


def test_anyone_may_share_a_public_item(share_table: ShareTable, handler_module: Any) -> None:
    share_table.put_item("public-item", owner="owner-1", public=True, count=7)

    response = handler_module.lambda_handler(
        sqs_event(sqs_record(share_body("public-item", "stranger"))), None
    )

    assert failed_ids(response) == []
    item = share_table.item("public-item")
    assert item is not None and item["SharedCount"] == 8
    assert len(share_table.records_with_prefix("USER#stranger")) == 1


def test_item_without_owner_is_shared_as_before(share_table: ShareTable, handler_module: Any) -> None:
    share_table.put_item("unowned", owner=None, public=False)

    handler_module.lambda_handler(sqs_event(sqs_record(share_body("unowned", "someone"))), None)

    item = share_table.item("unowned")
    assert item is not None and item["SharedCount"] == 1 and item["IsPublic"] is True


def test_duplicate_event_is_counted_once_across_batches(share_table: ShareTable, handler_module: Any) -> None:
    share_table.put_item("test-item")
    body = share_body(event_id="test-event")

    first = handler_module.lambda_handler(sqs_event(sqs_record(body, "m-1")), None)
    second = handler_module.lambda_handler(sqs_event(sqs_record(body, "m-2")), None)

    assert failed_ids(first) == failed_ids(second) == []
    item = share_table.item("test-item")
    assert item is not None and item["SharedCount"] == 1
    assert len(share_table.records_with_prefix("USER#")) == 1
    assert len(share_table.records_with_prefix("EVENT#")) == 1


def test_duplicate_event_in_one_batch_is_counted_once(share_table: ShareTable, handler_module: Any) -> None:
    share_table.put_item("test-item")
    body = share_body(event_id="test-event")

    response = handler_module.lambda_handler(
        sqs_event(sqs_record(body, "m-1"), sqs_record(body, "m-2")), None
    )

    assert failed_ids(response) == []
    item = share_table.item("test-item")
    assert item is not None and item["SharedCount"] == 1
    assert len(share_table.records_with_prefix("USER#")) == 1


def test_missing_item_writes_nothing_and_succeeds(share_table: ShareTable, handler_module: Any) -> None:
    response = handler_module.lambda_handler(sqs_event(sqs_record(share_body("no-such-item"))), None)

    assert failed_ids(response) == []
    assert share_table.all_records() == []


def test_non_owner_share_of_private_item_writes_nothing_and_succeeds(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("private", owner="owner-1", public=False, count=5)
    before = share_table.item("private")

    response = handler_module.lambda_handler(sqs_event(sqs_record(share_body("private", "stranger"))), None)

    assert failed_ids(response) == []
    assert share_table.item("private") == before
    assert _only_item_changed(share_table) == []


def test_owner_share_then_stranger_share_in_one_batch_both_apply(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("private", owner="owner-1", public=False)
    batch = sqs_event(
        sqs_record(share_body("private", "owner-1")), sqs_record(share_body("private", "stranger"))
    )

    response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    item = share_table.item("private")
    assert item is not None and item["SharedCount"] == 2


def test_invalid_message_fails_alone_and_writes_nothing(share_table: ShareTable, handler_module: Any) -> None:
    share_table.put_item("test-item")
    batch = sqs_event(
        sqs_record(share_body("test-item"), "good-1"),
        sqs_record("not json", "bad-json"),
        sqs_record(share_body("ITEM#test-item"), "bad-id"),
        sqs_record(share_body("test-item", shared_at="2025-11-13T10:30:00"), "bad-time"),
        sqs_record(share_body("test-item"), "good-2"),
    )

    response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == ["bad-json", "bad-id", "bad-time"]
    item = share_table.item("test-item")
    assert item is not None and item["SharedCount"] == 2
    assert len(share_table.records_with_prefix("USER#")) == 2


def test_dynamodb_error_fails_the_record_for_retry_and_writes_nothing(
    aws: Any, handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "table-that-does-not-exist")
    handler_module.worker.cache_clear()

    response = handler_module.lambda_handler(sqs_event(sqs_record(share_body(), "m-1")), None)

    assert failed_ids(response) == ["m-1"]


def test_handler_accepts_a_record_with_only_a_body(share_table: ShareTable, handler_module: Any) -> None:
    """The product owner's own integration-test example: no messageId, context None."""
    share_table.put_item("test-item")
    body = json.dumps(
        {
            "itemId": "test-item",
            "userId": "user123",
            "sharedAt": "2025-11-13T10:30:00Z",
            "eventId": "test-event",
        }
    )

    result = handler_module.lambda_handler({"Records": [{"body": body}]}, None)

    assert result == {"batchItemFailures": []}
    item = share_table.item("test-item")
    assert item is not None and item["SharedCount"] == 1


def test_failed_record_without_message_id_fails_the_whole_batch(
    share_table: ShareTable, handler_module: Any
) -> None:
    from services.errors import UnreportableFailure

    with pytest.raises(UnreportableFailure):
        handler_module.lambda_handler({"Records": [{"body": "{}"}, sqs_record(share_body(), "m-1")]}, None)


def test_sample_batch_from_samples_folder(share_table: ShareTable, handler_module: Any) -> None:
    from local_runtime.stack.provision import sample_event, sample_items, seed_items

    seed_items(share_table.resource, share_table.name, sample_items())

    response = handler_module.lambda_handler(sample_event("mixed-batch.json"), None)

    assert failed_ids(response) == ["msg-invalid"]
    assert share_table.item("test-item")["SharedCount"] == 1  # type: ignore[index]
    assert share_table.item("01JCWXYZ8Q4KTV3M9N2P5R7S6A")["SharedCount"] == 5  # type: ignore[index]
    assert share_table.item("01JCWXZ0B7YH2D5F8G3J6K9M1N")["SharedCount"] == 0  # type: ignore[index]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_missing_table_name_fails_the_invocation_with_a_clear_error(
    handler_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.errors import ConfigurationError

    monkeypatch.delenv("TABLE_NAME")
    handler_module.worker.cache_clear()

    with pytest.raises(ConfigurationError, match="TABLE_NAME is not set"):
        handler_module.lambda_handler(sqs_event(sqs_record(share_body())), None)


def test_a_body_python_cannot_decode_fails_alone(share_table: ShareTable, handler_module: Any) -> None:
    share_table.put_item("test-item")
    huge_number = share_body("test-item")[:-1] + ', "extra": ' + "9" * 5000 + "}"
    batch = sqs_event(sqs_record(huge_number, "bad"), sqs_record(share_body("test-item"), "good"))

    response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == ["bad"]
    item = share_table.item("test-item")
    assert item is not None and item["SharedCount"] == 1
