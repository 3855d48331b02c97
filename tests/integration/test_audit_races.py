"""The audit's confirmation and conditional repair when a share (or another repair) lands at the worst
moment, made deterministic with a botocore hook on the audit's own client (the share goes through the
handler, on a client of its own): see :mod:`local_runtime.audit.confirmation` for the argument."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from local_runtime.audit.audit import AuditRequest, audit
from local_runtime.audit.drift import Status
from local_runtime.audit.lease import LeaseHeld
from local_runtime.audit.repair import Outcome
from services.dynamodb_service import DynamoDBService
from testkit.client_hooks import before_send, counting_requests
from tests.conftest import ShareTable
from tests.integration.audit_item import (
    ITEM,
    count_of,
    ledger_of,
    once_before,
    run_audit,
    set_count,
)

pytestmark = pytest.mark.integration


def test_a_share_landing_before_the_conditional_write_is_kept_and_left_for_the_next_run(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    item_shares(3)
    set_count(share_table, 5)
    service = DynamoDBService(share_table.name)

    with before_send(service.table.meta.client, once_before("TransactWriteItems", lambda: item_shares(1))):
        first = run_audit(service, repair=True)

    assert [(row.finding.shared_count, row.finding.ledger_count, row.outcome) for row in first.rows] == [
        (5, 3, Outcome.CHANGED_DURING_REPAIR)
    ]
    assert count_of(share_table) == 6  # the share that landed is not overwritten
    second = run_audit(service, repair=True)
    assert [(row.finding.shared_count, row.outcome) for row in second.rows] == [(6, Outcome.REPAIRED)]
    assert count_of(share_table) == ledger_of(share_table) == 4


def test_a_share_landing_while_the_ledger_is_counted_is_neither_drift_nor_written(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    """The count seen (3) is read before the ledger scan, which then sees the new share's entry (4):
    the item changed in between, so it is confirmed again (4 and 4), not taken for drift."""
    item_shares(3)
    service = DynamoDBService(share_table.name)
    client = boto3.client("dynamodb")

    with (
        before_send(client, once_before("Scan", lambda: item_shares(1))),
        counting_requests(service.table.meta.client) as requests,
    ):
        result = run_audit(service, client, item_ids=[ITEM], repair=True)

    assert result.rows == []
    assert requests.by_operation["TransactWriteItems"] == 0
    assert count_of(share_table) == ledger_of(share_table) == 4


def test_a_second_repair_cannot_run_while_the_first_one_holds_the_lease(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    """The reviewer's interleaving: repair A has seen 5 (ledger 3) when repair B would set 3 and two
    real shares land (5 = ledger 5), so that A's condition ``SharedCount = 5`` holds and erases them.
    B cannot take the lease, so the count A finds is 7 and A leaves it."""
    item_shares(3)
    set_count(share_table, 5)
    first, second = DynamoDBService(share_table.name), DynamoDBService(share_table.name)
    refused: list[LeaseHeld] = []

    def meanwhile() -> None:
        with pytest.raises(LeaseHeld, match="another repair is running") as held:
            run_audit(second, repair=True)
        refused.append(held.value)
        item_shares(2)

    with before_send(first.table.meta.client, once_before("TransactWriteItems", meanwhile)):
        result = run_audit(first, repair=True)

    assert refused
    assert [(row.finding.shared_count, row.outcome) for row in result.rows] == [
        (5, Outcome.CHANGED_DURING_REPAIR)
    ]
    assert (count_of(share_table), ledger_of(share_table)) == (7, 5)  # no share erased
    again = run_audit(second, repair=True)  # the lease was released
    assert [row.outcome for row in again.rows] == [Outcome.REPAIRED]
    assert count_of(share_table) == ledger_of(share_table) == 5


def test_a_busy_item_without_drift_is_changed_during_audit_not_drift(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    """A share lands before every page of every confirmation scan: the count read after the ledger
    is always higher than the one read before it, the drift lies in a range that holds 0 and a dry
    run does not report (or exit 1 for) an under-count that is not there."""
    item_shares(3)
    client = boto3.client("dynamodb")

    with before_send(client, lambda **_: item_shares(1)):
        result = run_audit(DynamoDBService(share_table.name), client, item_ids=[ITEM])

    assert [(row.finding.status, row.finding.drift, row.outcome) for row in result.rows] == [
        (Status.CHANGED_DURING_AUDIT, None, Outcome.CHANGED_DURING_AUDIT)
    ]
    assert result.left_drifting == []
    assert count_of(share_table) == ledger_of(share_table)


def test_a_busy_item_that_drifts_is_reported_with_the_range_of_its_drift(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    """Over-counted by 5, a share landing before every confirmation scan's page: the drift is 5
    whatever the scans saw of those shares, and the range reported holds it and excludes 0; with no
    stable count to condition on, a repair leaves it."""
    item_shares(3)
    set_count(share_table, 8)
    client = boto3.client("dynamodb")

    with before_send(client, lambda **_: item_shares(1)):
        result = run_audit(DynamoDBService(share_table.name), client, item_ids=[ITEM], repair=True)

    (row,) = result.rows
    assert (row.finding.status, row.finding.drift, row.outcome) == (
        Status.OVER_COUNTED,
        None,
        Outcome.CHANGED_DURING_AUDIT,
    )
    assert row.finding.drift_bounds is not None
    least, most = row.finding.drift_bounds
    assert 0 < least <= 5 <= most
    assert result.left_drifting == [row]
    assert count_of(share_table) - ledger_of(share_table) == 5  # not written


def test_each_scan_reports_its_progress_under_its_own_name(
    share_table: ShareTable, item_shares: Callable[[int], None]
) -> None:
    item_shares(3)
    set_count(share_table, 4)
    scans: list[tuple[str, list[int]]] = []

    def progress(description: str) -> Callable[[int], None]:
        scans.append((description, []))
        return scans[-1][1].append

    audit(DynamoDBService(share_table.name), boto3.client("dynamodb"), AuditRequest(segments=1), progress)

    assert [description for description, _ in scans] == ["scanning", "confirming 1 items (round 1)"]
    records = len(share_table.all_records())
    assert [sum(pages) for _, pages in scans] == [records, records]
