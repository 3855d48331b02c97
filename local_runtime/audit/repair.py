"""Setting a drifting item's ``SharedCount`` to its ledger count, on the condition that it still holds
the value the confirmation saw (see :mod:`local_runtime.audit.confirmation` for why that is safe)."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from local_runtime.audit.drift import Finding
from services.keys import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

log = logging.getLogger(__name__)


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


def repair(table: Table, finding: Finding) -> Outcome:
    """``SharedCount = ledger`` if ``SharedCount`` is still ``finding.shared_count`` (an integer or
    none: a malformed count is never repaired)."""
    values: dict[str, Any] = {":ledger": finding.ledger_count}
    if finding.shared_count is None:
        condition = "attribute_exists(PK) AND attribute_not_exists(SharedCount)"
    else:
        condition = "SharedCount = :seen"
        values[":seen"] = finding.shared_count
    try:
        table.update_item(
            Key=item_key(finding.item_id),
            UpdateExpression="SET SharedCount = :ledger",
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
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
