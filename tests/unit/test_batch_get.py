"""``DynamoDBService.batch_get``: chunks of at most 100 keys, ``UnprocessedKeys`` read again."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services import dynamodb_service
from services.dynamodb_service import DynamoDBService
from services.errors import RetryableProcessingError
from services.keys import Key, item_key


class ThrottlingClient:
    """A ``batch_get_item`` that returns every key as an item, except ``unprocessed`` keys per call."""

    def __init__(self, table_name: str, unprocessed_per_call: list[int] | None = None) -> None:
        self.table_name = table_name
        self.unprocessed_per_call = list(unprocessed_per_call or [])
        self.requested: list[list[Key]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        keys: list[Key] = RequestItems[self.table_name]["Keys"]
        self.requested.append(keys)
        held_back = self.unprocessed_per_call.pop(0) if self.unprocessed_per_call else 0
        served, unprocessed = keys[held_back:], keys[:held_back]
        response: dict[str, Any] = {"Responses": {self.table_name: [dict(key) for key in served]}}
        if unprocessed:
            response["UnprocessedKeys"] = {self.table_name: {"Keys": unprocessed}}
        return response


def _service(client: ThrottlingClient) -> DynamoDBService:
    table = SimpleNamespace(meta=SimpleNamespace(client=client))
    return DynamoDBService(client.table_name, table=table)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamodb_service, "UNPROCESSED_KEYS_BASE_DELAY_S", 0)


def test_keys_are_read_in_chunks_of_at_most_a_hundred() -> None:
    client = ThrottlingClient("t")
    keys = [item_key(f"item-{index}") for index in range(250)]

    found = _service(client).batch_get(keys)

    assert [len(chunk) for chunk in client.requested] == [100, 100, 50]
    assert len(found) == 250


def test_repeated_keys_are_read_once() -> None:
    client = ThrottlingClient("t")

    found = _service(client).batch_get([item_key("a"), item_key("a"), item_key("b")])

    assert client.requested == [[item_key("a"), item_key("b")]]
    assert set(found) == {("ITEM#a", "METADATA"), ("ITEM#b", "METADATA")}


def test_unprocessed_keys_are_requested_again_until_all_are_read() -> None:
    client = ThrottlingClient("t", unprocessed_per_call=[6, 2])
    keys = [item_key(f"item-{index}") for index in range(10)]

    found = _service(client).batch_get(keys)

    assert [len(request) for request in client.requested] == [10, 6, 2]
    assert client.requested[1] == keys[:6]
    assert len(found) == 10


def test_keys_still_unprocessed_after_every_attempt_are_a_retryable_error() -> None:
    attempts = dynamodb_service.UNPROCESSED_KEYS_ATTEMPTS
    client = ThrottlingClient("t", unprocessed_per_call=[1] * attempts)

    with pytest.raises(RetryableProcessingError, match="unprocessed"):
        _service(client).batch_get([item_key("a"), item_key("b")])

    assert len(client.requested) == attempts


def test_no_pause_follows_the_last_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(
        "services.dynamodb_service.deadline.pause", lambda seconds, what: pauses.append(seconds)
    )
    attempts = dynamodb_service.UNPROCESSED_KEYS_ATTEMPTS
    client = ThrottlingClient("t", unprocessed_per_call=[1] * attempts)

    with pytest.raises(RetryableProcessingError, match="unprocessed"):
        _service(client).batch_get([item_key("a")])

    assert len(pauses) == attempts - 1  # between attempts only
