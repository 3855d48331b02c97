"""The lease that makes ``--repair`` runs mutually exclusive.

A repair writes ``SharedCount = :ledger`` on the condition ``SharedCount = :seen``, which proves that
no share landed in between only if counts never go down meanwhile. Another repair lowers them:
audit A sees 5 (ledger 3), audit B repairs the item to 3, two real shares land (5, ledger 5), and
A's condition holds and erases them. So a repair holds one record, :data:`LEASE_KEY`, from its first
read to its last write:

* taken with a conditional ``PutItem`` (no lease, or an expired one), with its owner's id and expiry;
* renewed by a thread of its own every third of :data:`LEASE_S` (conditional on the owner);
* fenced in each write: a repair is one ``TransactWriteItems`` whose ``ConditionCheck`` requires the
  record's ``Owner`` to be this repair's (:mod:`local_runtime.audit.repair`), so a write that lands
  late (botocore's retries, a paused process) after another repair took the expired lease is
  cancelled, not applied. ``#owner = :me`` is enough, without a clock: an owner id is new for each
  run (:attr:`Lease.owner`) and only :meth:`Lease.take` writes a record without the condition
  ``#owner = :me``, once per run, so once another repair has taken the lease the record never holds
  this owner again;
* checked before each write (:meth:`Lease.check`), only to stop early: a repair that could not renew
  in time stops, as another may have it;
* deleted at the end on the condition that it is still the owner's; a refusal means another repair
  took it meanwhile, and the run exits 2. A crashed run's lease expires (another run takes it then),
  and DynamoDB's TTL, on the same ``ExpiresAt`` as the dedup markers', deletes it later.

Clocks: ``ExpiresAt`` is written with the holder's clock and compared with the taker's (``ExpiresAt <
:now``), so a taker whose clock runs ahead can take a live lease early. Skew can only shorten a
lease, never let two repairs write: the fencing above refuses the first holder's writes from then on.
The holder measures its own margin (:meth:`Lease.check`) with :func:`time.monotonic`, which no clock
adjustment moves.

A dry run writes nothing and takes no lease. The scan skips the record (its key is neither an item's
nor a feed entry's).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from services.dynamodb_service import DynamoDBService

LEASE_KEY = {"PK": "AUDIT#LOCK", "SK": "LOCK"}
LEASE_S = 60
"""How long a lease lasts unless renewed; it is renewed every third of that."""

OWNER_NAME = {"#owner": "Owner"}
"""``Owner`` is one of DynamoDB's reserved words."""

log = logging.getLogger(__name__)


class LeaseError(Exception):
    """The repair cannot hold the lease: it must not write."""


class LeaseHeld(LeaseError):
    def __init__(self, owner: str, expires_at: int) -> None:
        when = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        super().__init__(
            f"another repair is running ({owner}); its lease expires at {when} unless that repair "
            "renews it or ends first: run this one after it"
        )


class LeaseLost(LeaseError):
    def __init__(self) -> None:
        super().__init__(
            "the lease was lost during this repair (it could not be renewed in time, or another repair "
            "took it): the repair stopped; the rows marked 'lease lost' were not written: run it again"
        )


class Lease:
    """One repair's hold on :data:`LEASE_KEY`."""

    def __init__(self, table: DynamoDBService, duration_s: float = LEASE_S) -> None:
        self._client = table.table.meta.client  # thread-safe, unlike the resource, and plain values
        self._table_name = table.table_name
        self._duration_s = duration_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._deadline = 0.0
        """When the lease ends by :func:`time.monotonic`, counted from before its last write was sent."""
        self._lost = False
        self._stop = threading.Event()

    @property
    def lost(self) -> bool:
        """A renewal or the release was refused: another repair took the lease."""
        return self._lost

    def take(self) -> None:
        """Takes the lease, or raises :class:`LeaseHeld`. A refusal that names this owner is this
        request's own earlier attempt, applied but its response lost (botocore retried it): taken."""
        now, started = time.time(), time.monotonic()
        try:
            self._put(now, "attribute_not_exists(PK) OR ExpiresAt < :now", {":now": int(now)})
        except self._client.exceptions.ConditionalCheckFailedException:
            held = self._client.get_item(TableName=self._table_name, Key=LEASE_KEY, ConsistentRead=True)
            record: dict[str, Any] = dict(held.get("Item", {}))
            if record.get("Owner") != self.owner:
                raise LeaseHeld(
                    str(record.get("Owner", "just ended")), int(record.get("ExpiresAt", now))
                ) from None
            self._deadline = started + self._duration_s

    def check(self) -> None:
        """Raises :class:`LeaseLost` unless the lease was renewed and has a third of its time left.
        Only an early stop: the write itself is fenced on the owner (see the module docstring)."""
        if self._lost or time.monotonic() > self._deadline - self._duration_s / 3:
            raise LeaseLost

    def fence(self) -> dict[str, Any]:
        """The ``ConditionCheck`` that a write sent in one transaction with it lands only while this
        repair owns the lease (plain values: the resource's client serializes them)."""
        return {
            "TableName": self._table_name,
            "Key": LEASE_KEY,
            "ConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": OWNER_NAME,
            "ExpressionAttributeValues": {":owner": self.owner},
        }

    def keep(self) -> None:
        """Renews the lease until :meth:`release`; a renewal refused (someone else's lease) loses it."""
        while not self._stop.wait(self._duration_s / 3):
            try:
                self._put(time.time(), "#owner = :owner", {":owner": self.owner})
            except self._client.exceptions.ConditionalCheckFailedException:
                self._lost = True
                return
            except (ClientError, BotoCoreError) as error:
                log.warning("could not renew the repair's lease (retrying): %s", error)

    def release(self) -> None:
        """Deletes the lease if it is still this owner's; else :attr:`lost` (the run exits 2)."""
        self._stop.set()
        try:
            self._client.delete_item(
                TableName=self._table_name,
                Key=LEASE_KEY,
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames=OWNER_NAME,
                ExpressionAttributeValues={":owner": self.owner},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            self._lost = True

    def _put(self, now: float, condition: str, values: dict[str, Any]) -> None:
        started = time.monotonic()
        expires_at = int(now + self._duration_s)
        arguments: dict[str, Any] = {
            "TableName": self._table_name,
            "Item": {**LEASE_KEY, "Owner": self.owner, "ExpiresAt": expires_at},
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if "#owner" in condition:  # DynamoDB refuses names an expression does not use
            arguments["ExpressionAttributeNames"] = OWNER_NAME
        self._client.put_item(**arguments)
        self._deadline = started + self._duration_s


@contextmanager
def repair_lease(table: DynamoDBService, duration_s: float = LEASE_S) -> Iterator[Lease]:
    """The lease, held (and renewed) for the block, released after it."""
    lease = Lease(table, duration_s)
    lease.take()
    renewer = threading.Thread(target=lease.keep, name="audit-lease", daemon=True)
    renewer.start()
    try:
        yield lease
    finally:
        lease.release()
        renewer.join()
