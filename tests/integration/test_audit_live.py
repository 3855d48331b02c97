"""``share-worker audit --repair`` while ``share-worker run`` applies new shares of the same items:
no share is lost (see :mod:`local_runtime.audit.confirmation` for the race this guards against)."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from tests.cli_process import COMMAND_DEADLINE_S, SHARE_WORKER, share_worker
from tests.factories import share_body
from tests.integration.audit_drift import SHARES, DriftingStack, provision_drifting_stack

pytestmark = pytest.mark.integration

LIVE_ITEMS = ("item-a", "item-b", "item-c", "item-d")
LIVE_SHARES = 160
REPAIRS_WHILE_POLLING = 4


def test_repair_during_a_live_poller_loses_no_share(
    aws: EmbeddedAws, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    drifting: DriftingStack = provision_drifting_stack(capsys)
    before = drifting.ledger()
    bodies = [share_body(LIVE_ITEMS[n % len(LIVE_ITEMS)], f"live{n % 7}") for n in range(LIVE_SHARES)]
    events = tmp_path / "live.json"
    events.write_text(json.dumps([json.loads(body) for body in bodies]))
    assert share_worker(*drifting.options, "publish", "--file", str(events)).returncode == 0

    poller = subprocess.Popen(  # the installed entry point, fixed arguments
        [str(SHARE_WORKER), *drifting.options, "run", "--until-drained", "--batch-window", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        repairs = [drifting.audit("--repair", "--segments", "2")[0] for _ in range(REPAIRS_WHILE_POLLING)]
    finally:
        assert poller.wait(COMMAND_DEADLINE_S) == 0
    assert set(repairs) <= {0, 1}
    assert drifting.audit("--repair")[0] == 0

    live_events = Counter(str(json.loads(body)["itemId"]) for body in bodies)
    feed = drifting.feed_entries()
    assert Counter(entry["EventId"] for entry in feed).most_common(1)[0][1] == 1  # one entry per event
    ledger = drifting.ledger()
    assert ledger == before + live_events  # every live share applied, once
    counts = {item_id: drifting.shared_count(item_id) for item_id in SHARES if item_id != "item-gone"}
    assert counts == {item_id: ledger[item_id] for item_id in counts}
    assert drifting.audit()[0] == 0
