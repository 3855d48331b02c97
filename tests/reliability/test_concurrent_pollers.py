"""Scenario 4: several poller processes drain one queue whose events mostly hit one hot item.

Three ``share-worker run`` processes, two invocations at once each, take batches off the same
queue; 80 % of the events share one item, every event is sent once or twice, and the fault proxy
cancels 10 % of the transactions with ``TransactionConflict`` as DynamoDB does on a hot item. No
update is lost and none is applied twice.
"""

from __future__ import annotations

import pytest

from local_runtime.embedded_aws import EmbeddedAws
from local_runtime.faults import FaultKind
from local_runtime.poller_scenarios import concurrency_scenario, run_poller_scenario
from tests.reliability.expectations import assert_exactly_once_in_the_table

pytestmark = pytest.mark.integration

POLLERS = 3
CONCURRENT = concurrency_scenario(90, pollers=POLLERS, seed=4)


def test_concurrent_pollers_on_a_hot_item_lose_no_update(aws: EmbeddedAws) -> None:
    result = run_poller_scenario(CONCURRENT, aws.endpoint_url)

    assert result.exit_codes == [0] * POLLERS
    hot_item, hot_count = max(result.audit.expected_counts.items(), key=lambda item: item[1])
    assert hot_count > CONCURRENT.share.events / 2
    assert result.audit.found_counts[hot_item] == hot_count
    assert result.faults.injected[FaultKind.TRANSACTION_CONFLICT] > 0
    assert result.queue.deliveries >= result.queue.messages
    assert_exactly_once_in_the_table(result)
