"""Scenario 7: the owner rule, through the redelivering queue.

A stranger's share of a private item writes nothing and is never retried; the owner's share of
their private item and anyone's share of a public item are applied.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from testkit.reliability import RedeliveringQueue
from tests.conftest import ShareTable
from tests.factories import share_body

pytestmark = pytest.mark.integration


def test_owner_rule_decides_and_refused_shares_write_nothing_and_are_not_retried(
    share_table: ShareTable, handler_module: Any
) -> None:
    share_table.put_item("private-refused", owner="owner-1", public=False, count=5)
    share_table.put_item("private-owned", owner="owner-2", public=False)
    share_table.put_item("public", owner="owner-3", public=True, count=1)
    untouched = share_table.item("private-refused")
    refused = [share_body("private-refused", f"stranger-{index}") for index in range(6)]
    owned = [share_body("private-owned", "owner-2") for _ in range(4)]
    public = [share_body("public", f"stranger-{index}") for index in range(5)]
    queue = RedeliveringQueue(random.Random(7))
    bodies = refused + refused[:2] + owned + public
    random.Random(7).shuffle(bodies)
    for body in bodies:
        queue.send(body)

    stats = queue.drain(handler_module.lambda_handler)

    assert (stats.deliveries, stats.redeliveries, stats.dead_letters) == (len(bodies), 0, [])
    assert stats.metrics["UnauthorizedShares"] == len(refused) + 2
    assert share_table.item("private-refused") == untouched
    owned_item, public_item = share_table.item("private-owned"), share_table.item("public")
    assert owned_item is not None and public_item is not None
    assert (owned_item["SharedCount"], owned_item["IsPublic"], public_item["SharedCount"]) == (4, True, 6)
    applied = {json.loads(body)["eventId"] for body in owned + public}
    assert {marker["EventId"] for marker in share_table.records_with_prefix("EVENT#")} == applied
    assert {entry["EventId"] for entry in share_table.records_with_prefix("USER#")} == applied
    assert len(share_table.records_with_prefix("USER#stranger-")) == len(public)
