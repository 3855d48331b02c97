"""How many DynamoDB requests a batch costs, counted as HTTP requests on the worker's own client.

The design's floor: one ``BatchGetItem`` per batch (per 100 keys) settles duplicates and missing
items without any write, and each new event costs exactly one ``TransactWriteItems``.
"""

from __future__ import annotations

from typing import Any

import pytest

from testkit.client_hooks import counting_requests
from tests.conftest import ShareTable
from tests.factories import failed_ids
from tests.integration.batches import batch_on, seed_owned_items, shared_count, worker_client

pytestmark = pytest.mark.integration


def _seed(share_table: ShareTable, count: int) -> list[str]:
    item_ids = [f"item-{index}" for index in range(count)]
    seed_owned_items(share_table, item_ids)
    return item_ids


def test_ten_new_events_on_distinct_items_cost_one_read_and_one_transaction_each(
    aws: Any, share_table: ShareTable, handler_module: Any
) -> None:
    batch = batch_on(_seed(share_table, 10))
    served_before = aws.dynamodb_requests

    with counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 10}
    assert aws.dynamodb_requests - served_before == 11  # the server saw exactly those, nothing else
    assert requests.total / len(batch["Records"]) == pytest.approx(1.1)


def test_redelivered_batch_is_settled_by_one_read_and_no_write(
    share_table: ShareTable, handler_module: Any
) -> None:
    batch = batch_on(_seed(share_table, 10))
    handler_module.lambda_handler(batch, None)

    with counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1}
    assert [shared_count(share_table, f"item-{index}") for index in range(10)] == [1] * 10


def test_shares_of_missing_items_cost_one_read_and_no_write(
    share_table: ShareTable, handler_module: Any
) -> None:
    batch = batch_on([f"missing-{index}" for index in range(10)])

    with counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1}
    assert share_table.all_records() == []


def test_batch_of_a_hundred_reads_its_two_hundred_keys_in_two_requests(
    share_table: ShareTable, handler_module: Any
) -> None:
    batch = batch_on(_seed(share_table, 100))

    with counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 2, "TransactWriteItems": 100}
    assert len(share_table.records_with_prefix("EVENT#")) == 100


def test_ten_shares_of_one_item_cost_one_read_and_one_transaction(
    share_table: ShareTable, handler_module: Any
) -> None:
    _seed(share_table, 1)
    batch = batch_on(["item-0"] * 10)

    with counting_requests(worker_client(handler_module)) as requests:
        response = handler_module.lambda_handler(batch, None)

    assert failed_ids(response) == []
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert shared_count(share_table, "item-0") == 10


def test_later_invocations_reuse_the_container_s_worker_and_client(
    share_table: ShareTable, handler_module: Any
) -> None:
    item_ids = _seed(share_table, 2)
    handler_module.lambda_handler(batch_on(item_ids), None)
    worker, client = handler_module.worker(), worker_client(handler_module)

    with counting_requests(client) as requests:
        handler_module.lambda_handler(batch_on(item_ids), None)

    assert handler_module.worker() is worker and worker_client(handler_module) is client
    assert requests.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 2}
