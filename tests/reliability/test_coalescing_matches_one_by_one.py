"""Committing the shares of one item together changes nothing but the number of writes.

hypothesis builds batches over a few items (missing, private with an owner, public, unowned), shares
by owners and strangers, events already applied by an earlier batch and copies of events within
the batch, in any order. The worker runs each batch through ``lambda_handler`` against the moto
server; a model applies the same records one by one, in queue order, as the design describes. Every
record's outcome, every item's count and visibility, and the markers and feed entries must agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_runtime.lambda_service.capture import captured_telemetry
from local_runtime.stack.provision import item_record
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.reliability.conftest import BIG_PROFILE

pytestmark = pytest.mark.integration

OWNER = "owner"
USERS = (OWNER, "stranger-1", "stranger-2")
ITEM_KINDS = ("missing", "private", "public", "unowned")


@dataclass(frozen=True)
class Share:
    item: int
    user: str
    event: int


def _model(
    kinds: list[str], applied_before: set[int], shares: list[Share]
) -> tuple[list[str], dict[int, Any]]:
    """Outcomes record by record and the items' (count, public) after applying ``shares`` one by one."""
    items = {index: {"count": 0, "public": kind == "public"} for index, kind in enumerate(kinds)}
    applied = set(applied_before)
    outcomes = []
    for share in shares:
        if share.event in applied:
            outcome = "DUPLICATE"
        elif kinds[share.item] == "missing":
            outcome = "ITEM_NOT_FOUND"
        elif kinds[share.item] == "private" and not items[share.item]["public"] and share.user != OWNER:
            outcome = "UNAUTHORIZED"
        else:
            outcome = "APPLIED"
            applied.add(share.event)
            items[share.item]["count"] += 1
            items[share.item]["public"] = True
        outcomes.append(outcome)
    return outcomes, items


def _feed(share_table: ShareTable, user_id: str) -> list[dict[str, Any]]:
    """One user's feed entries (a query: the table holds every example's records)."""
    condition = "PK = :pk AND begins_with(SK, :activity)"
    values = {":pk": f"USER#{user_id}", ":activity": "ACTIVITY#"}
    page = share_table.table.query(KeyConditionExpression=condition, ExpressionAttributeValues=values)
    return list(page["Items"])


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[str], set[int], list[Share]]:
    kinds = draw(st.lists(st.sampled_from(ITEM_KINDS), min_size=1, max_size=3))
    distinct = draw(
        st.lists(st.tuples(st.integers(0, len(kinds) - 1), st.sampled_from(USERS)), min_size=1, max_size=12)
    )
    events = [Share(item, user, event) for event, (item, user) in enumerate(distinct)]
    copies = draw(st.lists(st.sampled_from(events), max_size=4))
    order = draw(st.permutations(events + copies))
    applied_before = draw(st.sets(st.sampled_from([share.event for share in events]), max_size=3))
    return kinds, applied_before, list(order)


@settings(
    max_examples=settings().max_examples if settings.get_current_profile_name() == BIG_PROFILE else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=batches())
def test_a_batch_ends_exactly_as_its_records_applied_one_by_one(
    share_table: ShareTable, handler_module: Any, batch: tuple[list[str], set[int], list[Share]]
) -> None:
    kinds, applied_before, shares = batch
    run = uuid.uuid4().hex[:8]  # every example on fresh ids, in the one table of the test
    item_id = {index: f"{run}-item-{index}" for index in range(len(kinds))}.__getitem__
    event_id = {share.event: f"{run}-e-{share.event}" for share in shares}.__getitem__
    user_id = {user: f"{run}-{user}" for user in USERS}.__getitem__
    for index, kind in enumerate(kinds):
        if kind != "missing":
            owner = None if kind == "unowned" else user_id(OWNER)
            record = {"itemId": item_id(index), "name": "n", "ownerId": owner, "isPublic": kind == "public"}
            share_table.table.put_item(Item=item_record(record))
    if applied_before:  # applied by an earlier batch, through an item of their own
        elsewhere = f"{run}-elsewhere"
        share_table.table.put_item(Item=item_record({"itemId": elsewhere, "name": "n", "isPublic": True}))
        earlier = [
            sqs_record(share_body(elsewhere, user_id(OWNER), event_id(event))) for event in applied_before
        ]
        assert failed_ids(handler_module.lambda_handler(sqs_event(*earlier), None)) == []
    records = [
        sqs_record(
            share_body(item_id(share.item), user_id(share.user), event_id(share.event)), f"m-{position}"
        )
        for position, share in enumerate(shares)
    ]

    with captured_telemetry() as captured:
        response = handler_module.lambda_handler(sqs_event(*records), None)

    expected_outcomes, expected_items = _model(kinds, applied_before, shares)
    outcomes = {line["message_id"]: line["outcome"] for line in captured.logs if "outcome" in line}
    assert failed_ids(response) == []
    assert [outcomes[f"m-{position}"] for position in range(len(shares))] == expected_outcomes
    for index, kind in enumerate(kinds):
        stored = share_table.item(item_id(index))
        if kind == "missing":
            assert stored is None
        else:
            assert stored is not None
            found = {"count": int(stored.get("SharedCount", 0)), "public": stored.get("IsPublic") is True}
            assert found == expected_items[index]
    batch_items = {item_id(index) for index in range(len(kinds))}
    feed = [
        entry
        for user in USERS
        for entry in _feed(share_table, user_id(user))
        if entry["ItemId"] in batch_items
    ]
    assert sorted(entry["EventId"] for entry in feed) == sorted(
        event_id(share.event)
        for share, outcome in zip(shares, expected_outcomes, strict=True)
        if outcome == "APPLIED"
    )
