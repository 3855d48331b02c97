"""Confirming a candidate's drift so that a repair can never erase a share the worker applies meanwhile.

The first scan reads item records and feed entries at different moments (other segments, other
pages), so under live traffic it sees phantom drift: a share that lands after its feed entry's page
was read and before its item's page was makes the item look over-counted by one. A repair
conditioned on that ``SharedCount`` would succeed and erase a real share. So each candidate is
confirmed in this order:

1. ``seen``: its record, read strongly consistent at t0 (``BatchGetItem``);
2. its ledger, counted by a second strongly consistent scan that starts at t1 > t0 and ends at t2;
3. its record again at t3 > t2 (``after``), and, for ``--repair``, at t4 > t3 the
   ``SET SharedCount = :ledger`` conditioned on ``SharedCount = :seen`` (in one transaction with the
   lease's check, :mod:`local_runtime.audit.repair`).

Every share is one transaction that adds 1 to the count *and* writes its feed entry, the worker never
deletes feed entries, and nothing lowers a count while a repair runs: repairs exclude each other
with a lease (:mod:`local_runtime.audit.lease`) and the README forbids anything else to. So counts
only grow meanwhile. Take a share applied at time s:

* s < t0: ``seen`` includes it, and its entry exists throughout the scan, which (strongly consistent)
  counts it: it is on both sides;
* t0 < s < t4: ``seen`` misses it, and the count at t4 is higher than ``seen`` (it only grew): the
  condition fails, the item is "changed during repair" and left for the next run, whatever the scan
  saw of it;
* s > t4: it adds 1 to the repaired count and one entry to the ledger, both after the repair.

So a condition that holds at t4 proves that the ledger counted exactly the shares in ``seen``, and
writing the ledger count is exact. The re-read at t3 tells a dry run the same without writing. When
``after`` differs from ``seen``, the k shares that landed in between are counted by the ledger or
not (0 <= k <= after - seen), so the drift lies between ``seen - ledger`` and ``after - ledger``
(:attr:`~local_runtime.audit.drift.Finding.drift_bounds`): drift is reported only when that range
excludes 0, and such an item is confirmed again, a few rounds at most. One whose range still holds 0
after the last round is undetermined ("changed during audit", exit status 3), neither hidden as ok
nor paged as drift; a repair by a delta would not need a stable count but could not be conditioned on
``seen``, so it is not done. What this cannot see is a
feed entry deleted on purpose (see the README, "Audit the counts").
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from local_runtime.audit.counts import Count, parse_count
from local_runtime.audit.drift import Finding
from local_runtime.audit.ledger_scan import ScanProgress, item_id_of, scan_counts
from services.dynamodb_service import DynamoDBService
from services.keys import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

CONFIRMATION_ROUNDS = 3


def confirm(
    table: DynamoDBService,
    client: DynamoDBClient,
    item_ids: Collection[str],
    segments: int,
    progress: ScanProgress,
    rounds: int = CONFIRMATION_ROUNDS,
) -> list[Finding]:
    """A finding for each of ``item_ids``, confirmed as the module docstring says (status
    ``not found`` for those with neither a record nor feed entries), sorted by item id."""
    confirmed: list[Finding] = []
    pending = set(item_ids)
    for round_ in range(rounds):
        if not pending:
            break
        seen = shared_counts(table, pending)
        description = f"confirming {len(pending)} items (round {round_ + 1})"
        ledger = scan_counts(client, table.table_name, segments, progress(description), pending).ledger
        after = shared_counts(table, pending)
        changed: set[str] = set()
        for item_id in pending:
            finding = Finding(
                item_id,
                seen.get(item_id),
                ledger[item_id],
                after.get(item_id),
                has_record=item_id in seen,
                has_record_after=item_id in after,
            )
            if finding.stable or round_ + 1 == rounds:
                confirmed.append(finding)
            else:
                changed.add(item_id)
        pending = changed
    return sorted(confirmed, key=lambda finding: finding.item_id)


def shared_counts(table: DynamoDBService, item_ids: Collection[str]) -> dict[str, Count]:
    """The ``SharedCount`` of each of ``item_ids`` that has a record, read strongly consistent."""
    records = table.batch_get([item_key(item_id) for item_id in item_ids])
    return {item_id_of(pk): parse_count(record.get("SharedCount")) for (pk, _), record in records.items()}
