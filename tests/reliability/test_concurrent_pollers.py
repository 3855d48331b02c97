"""Scenario 4: several poller processes drain one queue whose events mostly hit one hot item.

Three ``share-worker run`` processes at the template's settings (each with up to its maximum
concurrency of execution environments) take batches off the same queue; 85 % of the events share
one item and every event is sent once or twice. No update is lost and none is applied twice.
Scenario 8 (``test_hot_item.py``) adds conflicts on the hot item.
"""

from __future__ import annotations

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from testkit.poller_scenarios import concurrency_scenario, run_poller_scenario
from testkit.reliability import HOT_ITEM_ID
from tests.reliability.expectations import assert_exactly_once_in_the_table

pytestmark = pytest.mark.integration

POLLERS = 3
CONCURRENT = concurrency_scenario(90, pollers=POLLERS, seed=4)


def test_concurrent_pollers_on_a_hot_item_lose_no_update(aws: EmbeddedAws) -> None:
    result = run_poller_scenario(CONCURRENT, aws.endpoint_url)

    assert result.exit_codes == [0] * POLLERS
    hot_count = result.audit.expected_counts[HOT_ITEM_ID]
    assert hot_count > CONCURRENT.share.events / 2
    assert result.audit.found_counts[HOT_ITEM_ID] == hot_count
    assert result.queue.deliveries >= result.queue.messages
    assert_exactly_once_in_the_table(result)
