"""``share-worker invoke EVENT.json [--embedded]``: one Lambda SQS event through the function.

The event (``samples/events/*.json``, or a ``test-event.json`` of one's own in the same shape) goes
to the template's handler against the configured endpoint, or, with ``--embedded``, against an
embedded server started for the call with the stack provisioned and the sample items seeded.

It runs in an execution environment (:class:`EnvironmentPool`, ``bootstrap.py``), as ``run`` does,
not in this process: that gives the handler the function's environment from the template
(``TABLE_NAME``, ``DEDUP_TTL_DAYS``, ``POWERTOOLS_*``) without setting it here, a context like
Lambda's (request id, function ARN, a remaining time counting down from the function timeout, which
the worker's deadline guard reads), a cold start with the handler's per-process state fresh, the
function timeout enforced, and its logs and EMF metrics read the way ``run`` reads them. It costs
the cold start (about a second). ``lambda_handler(event, None)`` in a Python shell is the in-process
way (README, "The product owner's test event").
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import boto3

from local_runtime.aws.embedded_aws import EmbeddedAws, embedded_aws
from local_runtime.cli.embedded_stack import provision_embedded
from local_runtime.cli.interrupts import INTERRUPTED_STATUS, ending_on_interrupt
from local_runtime.cli.run_summary import outcome_table
from local_runtime.cli.session import Session
from local_runtime.lambda_service.capture import TelemetryStream
from local_runtime.lambda_service.execution_environment import EnvironmentPool, InvocationResult
from local_runtime.stack.provision import StackResources, require_table


def add_parser(commands: Any) -> None:
    invoke = commands.add_parser(
        "invoke",
        help="run the function's handler once on a Lambda SQS event file (e.g. test-event.json)",
        description='Runs the template\'s handler on EVENT (a Lambda SQS event: {"Records": [...]}, as in '
        "samples/events/) in an execution environment with the function's environment variables, "
        "context and timeout, against the configured endpoint, or with --embedded against an embedded "
        "server started for the call (stack provisioned, samples/items.json seeded). Prints the "
        "response (batchItemFailures) and each outcome's count; exit status 1 if a record failed.",
    )
    invoke.add_argument("event", metavar="EVENT.json", type=_lambda_event, help="the Lambda event file")
    invoke.add_argument(
        "--embedded",
        action="store_true",
        help="start an embedded server for this call, with the stack provisioned and the samples seeded",
    )
    invoke.add_argument(
        "--logs", action="store_true", help="also print the worker's JSON log lines and EMF metrics"
    )
    invoke.set_defaults(run_command=invoke_command)


def invoke_command(session: Session) -> int:
    server: AbstractContextManager[EmbeddedAws | None] = (
        embedded_aws() if session.args.embedded else nullcontext()
    )
    with server as embedded:
        if embedded:
            resources = provision_embedded(session.stack, session.sqs, seed=True)
        else:
            require_table(session.stack, boto3.client("dynamodb"))
            resources = session.resources
        try:
            result = _invoke(session, resources)
        except KeyboardInterrupt:
            print("share-worker: interrupted; the execution environment was killed", file=sys.stderr)
            return INTERRUPTED_STATUS
    return 0 if result.completed and not (result.response or {}).get("batchItemFailures") else 1


def _invoke(session: Session, resources: StackResources) -> InvocationResult:
    function = session.stack.function()
    telemetry = TelemetryStream(sys.stdout if session.args.logs else None)
    environments = EnvironmentPool(function, resources.function_arn(function.name))
    with ending_on_interrupt(environments), environments, telemetry.as_stdout():
        result = environments.invoke(session.args.event, str(uuid.uuid4()))
    if result.completed:
        print(json.dumps(result.response, indent=2))
    else:
        print(f"share-worker: the invocation failed: {result.error}", file=sys.stderr)
    print(f"\n{outcome_table(telemetry.metrics)}")
    return result


def _lambda_event(path: str) -> dict[str, Any]:
    """An argparse type: the JSON object in the file at ``path``, with a list of ``Records``."""
    try:
        event = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"cannot read a JSON event from {path}: {error}") from None
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise argparse.ArgumentTypeError(f'{path} is not a Lambda SQS event: expected {{"Records": [...]}}')
    return event
