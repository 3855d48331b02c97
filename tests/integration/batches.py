"""Helpers shared by the integration tests that watch the worker's requests."""

from __future__ import annotations

from typing import Any

from local_runtime.stack.provision import seed_items
from tests.conftest import ShareTable
from tests.factories import share_body, sqs_event, sqs_record


def worker_client(handler_module: Any) -> Any:
    """The DynamoDB client of the worker ``handler_module`` has built (and will reuse)."""
    return handler_module.worker().share_service.dynamodb_service.table.meta.client


def seed_owned_items(share_table: ShareTable, item_ids: list[str], owner: str = "user123") -> None:
    seed_items(
        share_table.resource,
        share_table.name,
        [{"itemId": item_id, "name": item_id, "ownerId": owner} for item_id in item_ids],
    )


def batch_on(item_ids: list[str], user_id: str = "user123") -> dict[str, Any]:
    """One new share event per entry of ``item_ids``, in that order."""
    return sqs_event(*(sqs_record(share_body(item_id, user_id)) for item_id in item_ids))


def shared_count(share_table: ShareTable, item_id: str) -> int:
    item = share_table.item(item_id)
    assert item is not None, f"{item_id} does not exist"
    return int(item["SharedCount"])
