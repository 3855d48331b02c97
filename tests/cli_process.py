"""The installed ``share-worker`` entry point in a process of its own, the way a user runs it.

The test process's environment (pointed at the embedded server by the ``aws`` fixture) is the child's,
unless ``env`` replaces it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

SHARE_WORKER = Path(sys.executable).with_name("share-worker")
COMMAND_DEADLINE_S = 120


def share_worker(
    *arguments: str, env: Mapping[str, str] | None = None, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``share-worker ARGUMENTS`` to its end; its output and exit status are the result's."""
    return subprocess.run(
        [str(SHARE_WORKER), *arguments],
        capture_output=True,
        text=True,
        timeout=COMMAND_DEADLINE_S,
        check=False,
        env=dict(env) if env is not None else None,
        input=input_text,
    )
