"""Scenario 3: a poller process killed part-way through its batches, before it deletes them.

One ``share-worker run`` poller at the template's settings drains 30 events. When its worker asks
for the transaction of the 15th share, the fault proxy SIGKILLs the poller and its execution
environments and relays no transaction from then on: what was committed stays, the batches in
flight are never deleted. Their messages are made visible again (as the end of the queue's
visibility timeout would), a fresh poller receives them, the committed records come back as
duplicates and everything is applied exactly once.
"""

from __future__ import annotations

import signal

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from testkit.poller_scenarios import crash_scenario, run_poller_scenario
from tests.reliability.expectations import assert_exactly_once_in_the_table

pytestmark = pytest.mark.integration

CRASH = crash_scenario(30, seed=3)


def test_batch_of_a_killed_poller_comes_back_and_is_applied_exactly_once(aws: EmbeddedAws) -> None:
    result = run_poller_scenario(CRASH, aws.endpoint_url)

    assert result.exit_codes == [-signal.SIGKILL, 0]
    assert result.queue.crashes == 1
    assert CRASH.crash_at_share == 15
    assert 0 < result.committed_at_crash < CRASH.crash_at_share
    assert result.queue.redeliveries > 0
    assert_exactly_once_in_the_table(result)
