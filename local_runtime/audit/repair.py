"""Setting a drifting item's ``SharedCount`` to its ledger count, on the condition that it still holds
the value the confirmation saw (see :mod:`local_runtime.audit.confirmation` for why that is safe), and
only while this repair holds the lease (see :mod:`local_runtime.audit.lease` for the fencing).

Both conditions are one ``TransactWriteItems``: the lease's ``ConditionCheck`` first, the item's
``Update`` second, which is also the order of ``CancellationReasons``. botocore gives the call a
``ClientRequestToken`` that it keeps across its own retries, so a retried repair is applied once."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from local_runtime.audit.drift import Finding
from local_runtime.audit.lease import Lease, LeaseLost
from services.dynamodb_service import DynamoDBService
from services.keys import item_key

log = logging.getLogger(__name__)

LEASE_CHECK, ITEM_UPDATE = 0, 1
"""The positions of the transaction's actions, and of their ``CancellationReasons``."""


class Outcome(StrEnum):
    """What the audit did with a finding that is not ``ok``."""

    REPAIRED = "repaired"
    CHANGED_DURING_REPAIR = "changed during repair"
    CHANGED_DURING_AUDIT = "changed during audit"
    """It kept taking shares while it was confirmed: no stable count to condition a repair on."""
    EXCLUDED = "excluded by --only"
    DRY_RUN = "dry run"
    NEVER_REPAIRED = "never repaired"
    """No record (the audit never creates items), or a malformed count (a person decides)."""
    LEASE_LOST = "lease lost"
    """The lease was lost before this item's repair landed: not written, the run exits 2."""


def repair(table: DynamoDBService, lease: Lease, finding: Finding) -> Outcome:
    """``SharedCount = ledger`` if ``SharedCount`` is still ``finding.shared_count`` (an integer or
    none: a malformed count is never repaired). Raises :class:`LeaseLost` when the lease's check
    cancelled the transaction: nothing was written."""
    values: dict[str, Any] = {":ledger": finding.ledger_count}
    if finding.shared_count is None:
        condition = "attribute_exists(PK) AND attribute_not_exists(SharedCount)"
    else:
        condition = "SharedCount = :seen"
        values[":seen"] = finding.shared_count
    update: dict[str, Any] = {
        "TableName": table.table_name,
        "Key": item_key(finding.item_id),
        "UpdateExpression": "SET SharedCount = :ledger",
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }
    try:
        actions: list[Any] = [{"ConditionCheck": lease.fence()}, {"Update": update}]  # plain values
        table.table.meta.client.transact_write_items(TransactItems=actions)
    except ClientError as error:
        reasons = _cancellation_codes(error)
        if reasons[LEASE_CHECK] == "ConditionalCheckFailed":
            raise LeaseLost from None
        if reasons[ITEM_UPDATE] != "ConditionalCheckFailed":
            raise  # not a cancellation, or one for another reason: the audit cannot finish
        log.info(
            "%s changed during repair (was %s): left for the next run", finding.item_id, finding.shared_count
        )
        return Outcome.CHANGED_DURING_REPAIR
    log.info(
        "repaired %s: SharedCount %s -> %d (its feed entries)",
        finding.item_id,
        finding.shared_count,
        finding.ledger_count,
    )
    return Outcome.REPAIRED


def _cancellation_codes(error: ClientError) -> list[str | None]:
    """The code of each action's cancellation reason (``"None"`` for one that held); none at all
    when ``error`` is not a cancellation."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return [None, None]
    reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
    return reasons + [None] * (2 - len(reasons))
