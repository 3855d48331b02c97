"""Scenario 8: a viral item, its transactions cancelled for conflicts, at the template's receive count.

Three ``share-worker run`` processes at the template's settings (each with up to its maximum
concurrency of execution environments, its ``MaxReceiveCount`` on the queue) drain a queue where
85 % of the events share one item, every event sent once or twice; the fault proxy cancels half of
the transactions that touch that item with ``TransactionConflict``, as DynamoDB cancels the
transactions contending for one item, and leaves the other items' transactions alone.

Whatever the worker does with the conflicts, nothing may be applied twice or half-written, and every
share missing from the counts must be a message in the DLQ. The promise of DESIGN.md ("contention is
retried where it happens") is more: nothing dead-lettered, counts exact.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_runtime.aws.embedded_aws import EmbeddedAws
from services.keys import MARKER_SK, item_key
from testkit.faults import FaultKind, FaultPlan, FaultProxy
from testkit.poller_scenarios import (
    HOT_ITEM_CONFLICT_RATE,
    PollerScenarioResult,
    hot_item_scenario,
    run_poller_scenario,
)
from testkit.reliability import HOT_ITEM_ID
from tests.conftest import ShareTable
from tests.reliability.expectations import assert_exactly_once_in_the_table

pytestmark = pytest.mark.integration

POLLERS = 3
HOT = hot_item_scenario(200, pollers=POLLERS, seed=5)
NEIGHBOUR = f"{HOT_ITEM_ID}0"
"""An item whose key starts with the hot item's: its transactions must not be taken for the hot item's."""
UPDATE = {"UpdateExpression": "ADD SharedCount :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}


def _key(item_id: str) -> dict[str, dict[str, str]]:
    """The item's key in DynamoDB JSON, as the proxy sees it on the wire."""
    return {name: {"S": value} for name, value in item_key(item_id).items()}


HOT_KEY = _key(HOT_ITEM_ID)


@pytest.fixture(scope="module")
def hot_run(aws: EmbeddedAws) -> PollerScenarioResult:
    """One run of the scenario, read by every test below."""
    return run_poller_scenario(HOT, aws.endpoint_url)


def test_hot_item_scenario_runs_at_the_templates_settings_with_conflicts_on_the_hot_item(
    hot_run: PollerScenarioResult,
) -> None:
    audit, faults, plan = hot_run.audit, hot_run.faults, HOT.share.fault_plan
    assert plan is not None and plan.item_id == HOT_ITEM_ID
    assert (
        plan.rates == {FaultKind.TRANSACTION_CONFLICT: HOT_ITEM_CONFLICT_RATE}
        and HOT_ITEM_CONFLICT_RATE >= 0.4
    )
    assert hot_run.exit_codes == [0] * POLLERS
    assert audit.expected_counts[HOT_ITEM_ID] > 0.8 * HOT.share.events
    assert hot_run.queue.messages > HOT.share.events
    assert 0 < faults.injected[FaultKind.TRANSACTION_CONFLICT] <= faults.item_transactions
    assert set(faults.injected) == {FaultKind.TRANSACTION_CONFLICT}


def test_nothing_is_applied_twice_and_every_missing_share_is_in_the_dlq(
    hot_run: PollerScenarioResult,
) -> None:
    """Holds for any worker: a conflicted share is either retried to success or parked whole."""
    audit = hot_run.audit
    unapplied = {event for event in audit.event_ids if audit.markers[event] == 0}
    dead_lettered = {json.loads(body)["eventId"] for body in hot_run.queue.dead_letters}
    assert (audit.double_applied, audit.half_written) == (0, 0)
    assert audit.lost == audit.unapplied == len(unapplied)
    assert unapplied <= dead_lettered


def test_hot_item_under_conflicts_dead_letters_nothing_and_counts_exactly(
    hot_run: PollerScenarioResult,
) -> None:
    assert_exactly_once_in_the_table(hot_run)


@pytest.mark.parametrize(
    "action",
    [
        {"Update": {**UPDATE, "Key": HOT_KEY}},
        {"Put": {"Item": HOT_KEY}},
        {"ConditionCheck": {"Key": HOT_KEY, "ConditionExpression": "attribute_exists(PK)"}},
    ],
    ids=["Update", "Put", "ConditionCheck"],
)
def test_proxy_cancels_only_transactions_on_the_planned_item_naming_its_action(
    share_table: ShareTable, proxy: FaultProxy, action: dict[str, dict[str, Any]]
) -> None:
    share_table.put_item(HOT_ITEM_ID)
    share_table.put_item(NEIGHBOUR)
    proxy.use_plan(FaultPlan({FaultKind.TRANSACTION_CONFLICT: 1.0}, item_id=HOT_ITEM_ID))
    client = boto3.client(
        "dynamodb", endpoint_url=proxy.endpoint_url, config=Config(retries={"total_max_attempts": 1})
    )
    table = {"TableName": share_table.name}
    marker = {"Put": {**table, "Item": {"PK": {"S": "EVENT#e-1"}, "SK": {"S": MARKER_SK}}}}
    [(kind, body)] = action.items()
    on_hot_item: list[Any] = [marker, {kind: {**table, **body}}]
    on_neighbour: list[Any] = [marker, {"Update": {**UPDATE, **table, "Key": _key(NEIGHBOUR)}}]

    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=on_hot_item)
    client.transact_write_items(TransactItems=on_neighbour)

    reasons = cancelled.value.response.get("CancellationReasons", [])
    assert [reason["Code"] for reason in reasons] == ["None", "TransactionConflict"]
    assert (proxy.stats.item_transactions, proxy.stats.faults) == (1, 1)
    assert len(share_table.records_with_prefix("EVENT#")) == 1
