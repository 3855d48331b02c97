"""Scenario 3: a poller process killed part-way through a batch, before it deletes anything.

The fault proxy kills the poller and its execution environment (SIGKILL) when the worker asks for
its 15th transaction (a transaction carries the shares of one item in one batch, so that is some
batches in): the batches before were applied and deleted, some transactions of the batch in flight
were committed (the proxy relays no transaction from the 15th on, even one running in parallel)
and that whole batch stays undeleted. After the queue's visibility timeout (2 s here) a fresh
poller receives it again, and everything is applied exactly once.
"""

from __future__ import annotations

import signal

import pytest

from local_runtime.batches import SQS_MAX_BATCH
from local_runtime.embedded_aws import EmbeddedAws
from local_runtime.poller_scenarios import crash_scenario, run_poller_scenario
from tests.reliability.expectations import assert_exactly_once_in_the_table

pytestmark = pytest.mark.integration

CRASH = crash_scenario(30, seed=3)


def test_batch_of_a_killed_poller_comes_back_and_is_applied_exactly_once(aws: EmbeddedAws) -> None:
    result = run_poller_scenario(CRASH, aws.endpoint_url)

    assert result.exit_codes == [-signal.SIGKILL, 0]
    assert result.queue.crashes == 1
    assert CRASH.crash_at_transaction == 15
    assert SQS_MAX_BATCH <= result.committed_at_crash < CRASH.share.events
    assert result.queue.redeliveries == SQS_MAX_BATCH
    assert_exactly_once_in_the_table(result)
