"""``bench.capacity_units``: item sizes, capacity units by DynamoDB's billing rules, the per-item ceiling."""

from __future__ import annotations

import base64

import pytest

from bench.accesses import accesses_of
from bench.capacity import bill, record_kind
from bench.capacity_units import Units, item_size, number_size, per_item_ceiling, priced, record_id, units_of
from bench.request_log import SentRequest
from tests.unit.dynamodb_bodies import (
    IDEMPOTENCY,
    KEY_NAMES,
    TABLE,
    batch_read,
    coalesced_transaction,
    idempotency_record,
    key,
    naive_share,
    s,
    share_transaction,
)

EVENTS = [f"event-{index}" for index in range(10)]


@pytest.mark.parametrize(
    ("number", "size"),
    [("1", 2), ("12", 2), ("123", 3), ("12345", 4), ("100", 2), ("-0.0500", 2), ("0", 2), ("1.5E+10", 2)],
)
def test_a_number_costs_a_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size


def test_item_size_adds_names_and_values_by_type() -> None:
    item = {
        "PK": s("ITEM#a"),  # 2 + 6
        "Name": s("é"),  # 4 + 2 (UTF-8 bytes, not characters)
        "SharedCount": {"N": "12345"},  # 11 + 4
        "IsPublic": {"BOOL": True},  # 8 + 1
        "Gone": {"NULL": True},  # 4 + 1
        "Blob": {"B": base64.b64encode(b"abc").decode()},  # 4 + 3
        "Tags": {"SS": ["ab", "c"]},  # 4 + 3
        "L": {"L": [{"N": "1"}, s("ab")]},  # 1 + 3 + (1 + 2) + (1 + 2)
        "M": {"M": {"a": s("xy")}},  # 1 + 3 + (1 + 1 + 2)
    }

    assert item_size(item) == 8 + 6 + 15 + 9 + 5 + 7 + 7 + 10 + 8


def test_writes_cost_a_unit_per_kilobyte_rounded_up_and_twice_that_in_a_transaction() -> None:
    standard = accesses_of(
        SentRequest("UpdateItem", {"TableName": TABLE, "Key": key("ITEM#a", "M")}), KEY_NAMES
    )
    (transactional, *_) = accesses_of(share_transaction("e"), KEY_NAMES)

    assert [units_of(standard[0], size).write for size in (0, 1, 1024, 1025, 2500)] == [1, 1, 1, 2, 3]
    assert [units_of(transactional, size).write for size in (1, 1024, 1025)] == [2, 2, 4]


def test_reads_cost_a_unit_per_four_kilobytes_half_if_eventually_consistent() -> None:
    get = {"TableName": TABLE, "Key": key("ITEM#a", "METADATA")}
    (strong,) = accesses_of(SentRequest("GetItem", {**get, "ConsistentRead": True}), KEY_NAMES)
    (eventual,) = accesses_of(SentRequest("GetItem", get), KEY_NAMES)

    assert [units_of(strong, size).read for size in (0, 4096, 4097)] == [1, 1, 2]
    assert [units_of(eventual, size).read for size in (0, 4096, 4097)] == [0.5, 0.5, 1]


def test_a_batch_read_rounds_each_key_up_on_its_own_and_a_missing_key_costs_the_minimum() -> None:
    keys = [key("ITEM#a", "METADATA"), key("ITEM#b", "METADATA"), key("EVENT#missing", "EVENT")]
    sizes = {record_id(TABLE, keys[0]): 100, record_id(TABLE, keys[1]): 5000}

    entries = priced([batch_read(keys)], KEY_NAMES, sizes)

    assert [entry.units.read for entry in entries] == [1, 2, 1]


def test_a_put_is_priced_on_the_larger_of_its_body_and_the_stored_record() -> None:
    """A failed conditional put still costs the existing record's size (here the stored one is larger)."""
    (put, _) = idempotency_record("e")
    (access,) = accesses_of(put, KEY_NAMES)

    assert units_of(access, 0).write == 1
    assert units_of(access, 3000).write == 3


def test_hot_batch_today_costs_six_write_units_a_share_two_of_them_on_the_items_partition() -> None:
    requests = [batch_read([key("ITEM#hot", "METADATA"), *(key(f"EVENT#{e}", "EVENT") for e in EVENTS)])]
    requests += [share_transaction(e) for e in EVENTS]

    spent = bill(priced(requests, KEY_NAMES, {}), len(EVENTS), {}, "today")

    assert spent.total == Units(write=6.0, read=1.1)
    assert spent.item_record == Units(write=2.0, read=0.1)
    assert per_item_ceiling(spent.item_record) == (500, "writes")


def test_coalesced_hot_batch_writes_the_item_once_and_lifts_the_ceiling_tenfold() -> None:
    requests = [batch_read([key("ITEM#hot", "METADATA"), *(key(f"EVENT#{e}", "EVENT") for e in EVENTS)])]
    requests.append(coalesced_transaction(EVENTS))

    spent = bill(priced(requests, KEY_NAMES, {}), len(EVENTS), {}, "coalesced")

    assert spent.total.write == pytest.approx(4.2)  # 10 markers and 10 feed entries at 2, the item at 2
    assert spent.item_record.write == pytest.approx(0.2)
    shares_per_s, binding = per_item_ceiling(spent.item_record)
    assert (round(shares_per_s), binding) == (5000, "writes")


def test_naive_and_peer_write_units_per_share_by_record() -> None:
    naive = [request for e in EVENTS for request in naive_share(e)]
    peer = [request for e in EVENTS for request in (*idempotency_record(e), *naive_share(e))]

    naive_bill = bill(priced(naive, KEY_NAMES, {}), len(EVENTS), {}, "naive")
    peer_bill = bill(priced(peer, KEY_NAMES, {}), len(EVENTS), {}, "peer")

    assert naive_bill.total == Units(write=2.0, read=1.0)
    assert peer_bill.total == Units(write=4.0, read=1.0)
    assert peer_bill.by_kind["idempotency"] == Units(write=2.0)
    assert per_item_ceiling(naive_bill.item_record) == (1000, "writes")


def test_record_kinds_follow_the_partition_key() -> None:
    assert [record_kind(p) for p in ("ITEM#a", "EVENT#e", "USER#u", f"{IDEMPOTENCY}#x")] == [
        "item",
        "marker",
        "feed",
        "idempotency",
    ]


def test_ceiling_binds_on_reads_when_reads_of_the_item_outweigh_its_writes() -> None:
    assert per_item_ceiling(Units(write=0.1, read=1.0)) == (3000, "reads")
    assert per_item_ceiling(Units()) == (float("inf"), "reads")
