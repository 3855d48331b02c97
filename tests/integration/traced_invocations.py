"""Invocations of the handler as Lambda makes them with active tracing, in a process of their own.

``python -m tests.integration.traced_invocations INVOCATIONS.json RESPONSES.json``: each invocation
is ``{"traceHeader": ..., "event": ...}``, with ``"budgetS"`` for a context whose time runs down.
Lambda sets ``_X_AMZN_TRACE_ID`` before each one, and so does this. Run with ``LAMBDA_TASK_ROOT`` and
``AWS_XRAY_DAEMON_ADDRESS`` set, tracing is on and the real X-Ray SDK sends its documents there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.factories import WallClockContext

TRACE_HEADER_VARIABLE = "_X_AMZN_TRACE_ID"


def main(invocations_path: str, responses_path: str) -> None:
    import handler

    responses = []
    for invocation in json.loads(Path(invocations_path).read_text()):
        os.environ[TRACE_HEADER_VARIABLE] = invocation["traceHeader"]
        budget_s = invocation.get("budgetS")
        context = WallClockContext(budget_s=budget_s) if budget_s else None
        responses.append(handler.lambda_handler(invocation["event"], context))  # type: ignore[arg-type]
    Path(responses_path).write_text(json.dumps(responses))
    # Lambda freezes the environment once it has the answer: a thread still in a request (the trickle
    # of a test) must not keep this process alive. The X-Ray SDK has sent its documents already.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:])
