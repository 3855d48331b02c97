"""``bench.accesses``: the records a request touches, and the writes of items' records, from bodies alone."""

from __future__ import annotations

import pytest

from bench.accesses import UnpricedRequest, accesses_of, item_record_writes, record_writes
from bench.request_log import SentRequest
from tests.unit.dynamodb_bodies import (
    KEY_NAMES,
    TABLE,
    batch_read,
    coalesced_transaction,
    idempotency_record,
    key,
    marker_put,
    naive_share,
    s,
    share_transaction,
)

EVENTS = [f"event-{index}" for index in range(10)]


def test_ten_shares_of_one_item_today_write_the_item_record_ten_times() -> None:
    requests = [batch_read([key("ITEM#hot", "METADATA")]), *(share_transaction(e) for e in EVENTS)]

    assert item_record_writes(requests, KEY_NAMES) / len(EVENTS) == 1.0


def test_ten_shares_of_one_item_coalesced_write_the_item_record_once() -> None:
    requests = [batch_read([key("ITEM#hot", "METADATA")]), coalesced_transaction(EVENTS)]

    assert item_record_writes(requests, KEY_NAMES) == 1
    assert item_record_writes(requests, KEY_NAMES) / len(EVENTS) == pytest.approx(0.1)


def test_a_group_split_at_a_hundred_actions_writes_the_item_once_per_transaction() -> None:
    many = [f"event-{index}" for index in range(60)]
    requests = [coalesced_transaction(many[:49]), coalesced_transaction(many[49:])]

    assert all(len(request.body["TransactItems"]) <= 100 for request in requests)
    assert item_record_writes(requests, KEY_NAMES) == 2


def test_naive_and_peer_write_the_item_record_once_per_share_and_never_count_idempotency_records() -> None:
    naive = [request for e in EVENTS for request in naive_share(e)]
    peer = [request for e in EVENTS for request in (*idempotency_record(e), *naive_share(e))]

    assert item_record_writes(naive, KEY_NAMES) == 10
    assert item_record_writes(peer, KEY_NAMES) == 10
    assert record_writes(peer, KEY_NAMES, "USER#") == 10


def test_reads_and_condition_checks_are_not_writes_of_the_item_record() -> None:
    check = {"ConditionCheck": {"TableName": TABLE, "Key": key("ITEM#hot", "METADATA")}}
    requests = [
        SentRequest("GetItem", {"TableName": TABLE, "Key": key("ITEM#hot", "METADATA")}),
        batch_read([key("ITEM#hot", "METADATA"), key("EVENT#e", "EVENT")]),
        SentRequest("TransactWriteItems", {"TransactItems": [check, marker_put("e")]}),
    ]

    assert item_record_writes(requests, KEY_NAMES) == 0


def test_a_put_of_an_item_record_and_a_delete_count_as_writes() -> None:
    requests = [
        SentRequest("PutItem", {"TableName": TABLE, "Item": {**key("ITEM#a", "METADATA"), "Name": s("A")}}),
        SentRequest("DeleteItem", {"TableName": TABLE, "Key": key("ITEM#b", "METADATA")}),
    ]

    assert item_record_writes(requests, KEY_NAMES) == 2


def test_accesses_name_each_key_of_a_batch_read_and_each_action_of_a_transaction() -> None:
    read = accesses_of(batch_read([key("ITEM#hot", "METADATA"), key("EVENT#e", "EVENT")]), KEY_NAMES)
    written = accesses_of(share_transaction("e"), KEY_NAMES)

    assert [(a.partition, a.write, a.consistent) for a in read] == [
        ("ITEM#hot", False, True),
        ("EVENT#e", False, True),
    ]
    assert [(a.partition, a.write, a.transactional) for a in written] == [
        ("EVENT#e", True, True),
        ("ITEM#hot", True, True),
        ("USER#u", True, True),
    ]
    assert written[0].item is not None and written[1].item is None


def test_a_put_is_keyed_by_its_tables_key_attributes_only() -> None:
    (put, _) = idempotency_record("e")

    (access,) = accesses_of(put, KEY_NAMES)

    assert access.key == {"id": s("fn#e")}


def test_requests_the_model_cannot_price_are_refused() -> None:
    with pytest.raises(UnpricedRequest):
        accesses_of(SentRequest("Query", {"TableName": TABLE}), KEY_NAMES)
    with pytest.raises(UnpricedRequest):
        accesses_of(SentRequest("GetItem", {"TableName": "unknown", "Key": {}}), KEY_NAMES)
