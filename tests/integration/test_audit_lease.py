"""``share-worker audit --repair`` (the installed entry point) and the lease that keeps two repairs
from running at once (see :mod:`local_runtime.audit.lease` for why)."""

from __future__ import annotations

import re
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from local_runtime.audit.lease import LEASE_KEY
from local_runtime.aws.embedded_aws import EmbeddedAws
from tests.cli_process import COMMAND_DEADLINE_S, SHARE_WORKER, share_worker
from tests.integration.audit_drift import SHARES, DriftingStack, provision_drifting_stack

pytestmark = pytest.mark.integration

OTHER = "other-host:4242:0badcafe"


@pytest.fixture
def drifting(aws: EmbeddedAws, capsys: pytest.CaptureFixture[str]) -> DriftingStack:
    return provision_drifting_stack(capsys)


def lease_of(stack: DriftingStack) -> dict[str, Any] | None:
    table = boto3.resource("dynamodb").Table(stack.table_name)
    return table.get_item(Key=LEASE_KEY, ConsistentRead=True).get("Item")


def hold_lease(stack: DriftingStack, expires_at: int) -> None:
    boto3.resource("dynamodb").Table(stack.table_name).put_item(
        Item={**LEASE_KEY, "Owner": OTHER, "ExpiresAt": expires_at}
    )


def test_a_repair_exits_2_while_another_holds_the_lease_and_a_dry_run_still_runs(
    drifting: DriftingStack,
) -> None:
    expires_at = int(time.time()) + 600
    hold_lease(drifting, expires_at)

    refused = share_worker(*drifting.options, "audit", "--quiet", "--repair")
    status, stdout = drifting.audit()

    when = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert f"share-worker: another repair is running ({OTHER}); its lease expires at {when}" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert drifting.shared_count("item-a") == 3  # nothing repaired
    assert status == 1  # the dry run needs no lease, and does not count it as an item
    assert "AUDIT" not in stdout
    assert re.search(rf"^items checked +{len(SHARES)}$", stdout, re.MULTILINE)
    assert lease_of(drifting) == {**LEASE_KEY, "Owner": OTHER, "ExpiresAt": expires_at}


def test_an_expired_lease_is_taken_and_released_at_the_end(drifting: DriftingStack) -> None:
    hold_lease(drifting, int(time.time()) - 1)

    assert drifting.audit("--repair")[0] == 0
    assert lease_of(drifting) is None
    assert drifting.audit()[0] == 0


def test_two_repairs_at_once_one_repairs_and_the_other_repairs_after_it_or_exits_2(
    drifting: DriftingStack,
) -> None:
    repairs = [
        subprocess.Popen(  # the installed entry point, fixed arguments
            [str(SHARE_WORKER), *drifting.options, "audit", "--quiet", "--repair"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    done = [(repair.wait(COMMAND_DEADLINE_S), repair.communicate()[1]) for repair in repairs]

    assert 0 in [status for status, _ in done]
    for status, stderr in done:
        assert status == 0 or (status == 2 and "another repair is running" in stderr), stderr
    assert lease_of(drifting) is None
    ledger = drifting.ledger()
    assert {item_id: drifting.shared_count(item_id) for item_id in SHARES if item_id != "item-gone"} == {
        item_id: ledger[item_id] for item_id in SHARES if item_id != "item-gone"
    }
