"""Confirming a candidate's drift so that a repair can never erase a share the worker applies meanwhile.

The first scan reads item records and feed entries at different moments (other segments, other
pages), so under live traffic it sees phantom drift: a share that lands after its feed entry's page
was read and before its item's page was makes the item look over-counted by one. A repair
conditioned on that ``SharedCount`` would succeed and erase a real share. So each candidate is
confirmed in this order:

1. ``seen``: its record, read strongly consistent at t0 (``BatchGetItem``);
2. its ledger, counted by a second strongly consistent scan that starts at t1 > t0 and ends at t2;
3. its record again at t3 > t2 (``after``), and, for ``--repair``, at t4 > t3 the
   ``UpdateItem ... SET SharedCount = :ledger`` conditioned on ``SharedCount = :seen``.

Every share is one transaction that adds 1 to the count *and* writes its feed entry, and the worker
never deletes feed entries. Take a share applied at time s:

* s < t0: ``seen`` includes it, and its entry exists throughout the scan, which (strongly consistent)
  counts it: it is on both sides;
* t0 < s < t4: ``seen`` misses it, and the count at t4 is higher than ``seen``: the condition fails,
  the item is "changed during repair" and left for the next run, whatever the scan saw of it;
* s > t4: it adds 1 to the repaired count and one entry to the ledger, both after the repair.

So a condition that holds at t4 proves that the ledger counted exactly the shares in ``seen``, and
writing the ledger count is exact. The re-read at t3 applies the same test without writing: a dry
run uses it to confirm drift before exiting 1 (live traffic on an item does not page anyone), and
an item that changed is confirmed again, a few rounds at most, then reported as "changed during
audit". What this cannot see is a feed entry deleted on purpose (see the README, "Audit the counts").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_runtime.audit.drift import Finding
from local_runtime.audit.ledger_scan import scan_counts
from services.dynamodb_service import DynamoDBService
from services.keys import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

CONFIRMATION_ROUNDS = 3


@dataclass(frozen=True)
class Confirmed:
    """A candidate after confirmation; ``stable`` when its count did not change while its ledger was
    counted, so that ``finding.shared_count`` is the ``seen`` a repair may be conditioned on."""

    finding: Finding
    stable: bool


def confirm(
    table: DynamoDBService,
    client: DynamoDBClient,
    item_ids: Collection[str],
    segments: int,
    rounds: int = CONFIRMATION_ROUNDS,
) -> list[Confirmed]:
    """Each of ``item_ids`` with a record or feed entries, confirmed as the module docstring says."""
    confirmed: list[Confirmed] = []
    pending = set(item_ids)
    for round_ in range(rounds):
        seen = shared_counts(table, pending)
        ledger = scan_counts(client, table.table_name, segments, only_items=pending).ledger
        after = shared_counts(table, pending)
        changed: set[str] = set()
        for item_id in sorted(pending):
            if item_id not in seen and not ledger[item_id]:
                continue
            finding = Finding(item_id, seen.get(item_id), ledger[item_id], has_record=item_id in seen)
            stable = seen.get(item_id, -1) == after.get(item_id, -1)
            if stable or round_ + 1 == rounds:
                confirmed.append(Confirmed(finding, stable))
            else:
                changed.add(item_id)
        pending = changed
        if not pending:
            break
    return sorted(confirmed, key=lambda entry: entry.finding.item_id)


def shared_counts(table: DynamoDBService, item_ids: Collection[str]) -> dict[str, int | None]:
    """The ``SharedCount`` of each of ``item_ids`` that has a record (``None`` for a record without
    one), read strongly consistent."""
    records = table.batch_get([item_key(item_id) for item_id in item_ids])
    return {
        str(record["ItemId"]): None if record.get("SharedCount") is None else int(record["SharedCount"])
        for record in records.values()
    }
