"""The benchmarks' contenders and faults still do what the README's tables say, against the moto server.

``make test`` does not run the benchmarks; these keep the peer's wiring and the fault injection from
rotting, and pin the peer's known gap as a test: its three calls are not atomic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.correctness import CASES, CONTENDERS, Case, run
from bench.harness import Peer, share_batch
from bench.request_log import logging_requests
from tests.conftest import ShareTable
from tests.factories import failed_ids
from tests.integration.batches import seed_owned_items

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def restored_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The share worker contender points ``handler`` at its own table: undone after each test."""
    import handler

    monkeypatch.setenv("TABLE_NAME", "unused")
    yield
    handler.worker.cache_clear()


def _case(name_starts: str) -> Case:
    return next(case for case in CASES if case.name.startswith(name_starts))


def test_peer_counts_a_redelivered_batch_once_at_five_requests_a_new_share_and_one_a_duplicate(
    share_table: ShareTable,
) -> None:
    seed_owned_items(share_table, ["item-0"], owner="bench-user")
    peer = Peer(share_table.name)
    batch = share_batch(["item-0"] * 3)

    with logging_requests(peer.clients) as first:
        assert failed_ids(peer(batch)) == []
    with logging_requests(peer.clients) as again:
        assert failed_ids(peer(batch)) == []

    assert first.by_operation == {"PutItem": 6, "GetItem": 3, "UpdateItem": 6}
    assert again.by_operation == {"PutItem": 3}
    item = share_table.item("item-0")
    assert item is not None and int(item["SharedCount"]) == 3
    assert len(share_table.records_with_prefix("USER#")) == 3


# The crashed invocation of ours dies before it counts anything, so its metrics flush finds none.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize("fault", ["crash right after", "the first feed-entry write fails"])
def test_a_fault_between_the_count_and_the_feed_entry_doubles_the_peers_count_not_ours(
    aws: Any, fault: str
) -> None:
    case = _case(fault)
    make_ours, make_peer, _ = CONTENDERS
    ours, peer = run(make_ours, case), run(make_peer, case)

    assert (ours.shares, ours.feed_entries, ours.dead_lettered) == (10, 10, 0)
    assert (peer.shares, peer.feed_entries, peer.dead_lettered) == (11, 10, 0)
