"""``share-worker``: the developer's and operator's command line for the Share Worker's queue and table.

Every command talks to whatever endpoint the standard boto3 configuration names (``AWS_ENDPOINT_URL``,
``AWS_PROFILE``, ``AWS_REGION``...): the embedded server that ``share-worker serve`` starts, another
local endpoint, or a deployed stack in a real account. Resource names come from ``template.yaml``
for the stack given with ``--stack``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shlex
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from local_runtime.aws.embedded_aws import embedded_aws
from local_runtime.cli import dlq, invoke_command, publisher
from local_runtime.cli.audit_command import add_audit
from local_runtime.cli.aws_setup import explained_aws_errors, region_from_aws_region
from local_runtime.cli.broken_pipe import BROKEN_PIPE_STATUS, quiet_stdout
from local_runtime.cli.embedded_stack import provision_embedded
from local_runtime.cli.interrupts import INTERRUPTED_STATUS, stop_on_signals
from local_runtime.cli.options import (
    RUN_OPTIONS,
    CommandParser,
    add_stack_options,
    at_least,
    check_stack_options,
    message_body,
    ratio,
    stack_options,
)
from local_runtime.cli.report import echoed_logs, table
from local_runtime.cli.session import CommandError, Session
from local_runtime.cli.show import add_show
from local_runtime.cli.table_check import advice, check_table
from local_runtime.cli.worker_loop import WorkerLoop
from local_runtime.lambda_service.poller import PollerSettings
from local_runtime.stack.provision import (
    MismatchedTable,
    MissingTable,
    StackResources,
    missing_table_reason,
    provision,
    require_table,
    sample_items,
    seed_items,
)
from local_runtime.stack.template import (
    QUEUE_ID,
    Stack,
    TemplateError,
)

DEFAULT_PORT = 5055
SAMPLE_USERS = ("user123", "user456", "user789")
BODY_PREVIEW = 100
FOLLOW_UP_COMMANDS = (
    ("publish", "--count", "100", "--duplicate-ratio", "0.1"),
    ("run", "--until-drained", "--retry-after", "1"),
)
"""What ``serve`` suggests for another shell, after the options that name the same stack."""
VISIBILITY_PARAMETERS = ("FunctionTimeout", "MaximumBatchingWindowInSeconds")
"""The parameters the queue's visibility timeout is looked up for."""

log = logging.getLogger("share-worker")


def main(argv: Sequence[str] | None = None) -> int:
    """The command's exit status; 130 on a Ctrl-C that the command does not handle itself (one line,
    no traceback), 141 when the reader of its output went away (``| head``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_stack_options(parser, args)
    try:
        status = _command(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe fails this flush
    except BrokenPipeError:
        quiet_stdout()
        return BROKEN_PIPE_STATUS
    except KeyboardInterrupt:
        print("share-worker: interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS
    return status


def _command(args: argparse.Namespace) -> int:
    command: Callable[[Session], int] = args.run_command
    session = Session(args)
    with (
        echoed_logs([log.name, "local_runtime"], sys.stderr, "%(asctime)s %(name)s: %(message)s"),
        region_from_aws_region(),
    ):
        try:
            with explained_aws_errors(lambda: missing_table_reason(session.stack)):
                return command(session)
        except (
            CommandError,
            TemplateError,
            MissingTable,
            MismatchedTable,
            publisher.PublishError,
            dlq.MoveTaskStillRunning,
        ) as error:
            print(f"share-worker: {error}", file=sys.stderr)
        except (ClientError, BotoCoreError) as error:
            print(f"share-worker: AWS call failed: {error}", file=sys.stderr)
    return int(args.failure_status)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="share-worker",
        description="Publish share events, run the worker loop, inspect and redrive the DLQ, "
        "and look at items and feeds; against the embedded server or any endpoint boto3 is configured for.",
    )
    add_stack_options(parser)
    parser.set_defaults(failure_status=1)  # a command may set its own (audit: 2, since 1 means drift)
    commands = parser.add_subparsers(
        title="commands", required=True, metavar="COMMAND", parser_class=CommandParser
    )
    _add_serve(commands)
    _add_provision(commands)
    _add_publish(commands)
    _add_run(commands)
    _add_dlq(commands)
    add_show(commands)
    _add_check_table(commands)
    add_audit(commands)
    invoke_command.add_parser(commands)
    return parser


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="start the embedded AWS (moto) on 127.0.0.1, provision the stack, seed sample items",
        description="Starts moto's server on 127.0.0.1, creates the stack's table and queues from "
        "template.yaml, seeds samples/items.json and prints the environment other shells need. "
        "With --param ExistingTableName=NAME it first creates table NAME as the app's stack would "
        "(the embedded server stands in for the app's account too) and the stack uses it. "
        "Runs until Ctrl-C; everything lives in memory.",
    )
    serve.add_argument(
        "--port", type=at_least(0), default=DEFAULT_PORT, help="port on 127.0.0.1 (default: %(default)s)"
    )
    serve.add_argument("--no-seed", action="store_true", help="do not seed samples/items.json")
    serve.set_defaults(run_command=serve_command)


def _add_provision(commands: Any) -> None:
    provision_ = commands.add_parser(
        "provision",
        help="create the stack's table and queues from template.yaml on the configured endpoint",
        description="Creates the DLQ, the queue and the table exactly as template.yaml defines them, on "
        "the endpoint boto3 is configured for. Idempotent: run again with other --params, it sets the "
        "existing queues' changed attributes and the table's TTL (and refuses a table with other keys). "
        "For real AWS use `sam deploy` instead.",
    )
    provision_.add_argument("--seed", action="store_true", help="also seed samples/items.json")
    provision_.set_defaults(run_command=provision_command)


def _add_publish(commands: Any) -> None:
    publish = commands.add_parser(
        "publish",
        help="send share events to the queue: one, from a JSON file, or a generated load",
        description="Sends share events the way the API does. Exactly one source: --item-id/--user-id "
        "for one event, --file for a JSON object or array, --body for a raw body (e.g. an invalid "
        "one), or --count for a generated load.",
    )
    source = publish.add_mutually_exclusive_group(required=True)
    source.add_argument("--item-id", help="item of a single event (with --user-id)")
    source.add_argument(
        "--file",
        type=Path,
        help="JSON object, array of objects, or an SQS event as Lambda gets it (samples/events/*.json: each "
        "record's body); strings are sent as-is",
    )
    source.add_argument(
        "--body", type=message_body, help="one raw message body, sent exactly as given (SQS's rules apply)"
    )
    source.add_argument("--count", type=at_least(1), help="generate this many events over the sample items")
    publish.add_argument("--user-id", help="sharing user of a single event")
    publish.add_argument("--event-id", help="eventId of a single event (default: a new UUID)")
    publish.add_argument("--shared-at", help="sharedAt of a single event (default: now)")
    publish.add_argument(
        "--duplicate-ratio",
        type=ratio,
        default=0.0,
        help="share of generated messages that repeat an earlier eventId, 0 to <1 (default: %(default)s)",
    )
    publish.add_argument("--seed", type=int, help="random seed, for a load that repeats the same way")
    publish.add_argument("--items", help="comma-separated item ids for --count (default: samples/items.json)")
    publish.add_argument(
        "--users",
        default=",".join(SAMPLE_USERS),
        help="comma-separated user ids for --count (default: %(default)s)",
    )
    publish.set_defaults(run_command=publish_command)


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run the worker loop: poll the queue like Lambda's SQS event source mapping",
        description="Polls the queue with the template's batch size, batching window and maximum "
        "concurrency and invokes the template's handler for each batch, in execution environments "
        "(one process each) with the function's environment variables and timeout. Stops on "
        "Ctrl-C/SIGTERM (batches in flight finish) or, with --until-drained, "
        "when the queue is empty, then prints a summary: the counts of batches and records, each outcome's "
        "count from the worker's EMF metrics, and the messages now in the DLQ; a second Ctrl-C kills the "
        "execution environments at once (exit status 130). Refuses to start if the provisioned queue's "
        "visibility timeout is shorter than six times the function timeout plus the batching window.",
    )
    run.add_argument("--until-drained", action="store_true", help="stop once nothing is left on the queue")
    run.add_argument(
        "--retry-after",
        type=at_least(0),
        metavar="SECONDS",
        help="local shortcut: failed messages reappear after SECONDS, not the queue's visibility timeout",
    )
    run.add_argument(
        "--batch-window",
        type=at_least(0),
        metavar="SECONDS",
        help="the batching window, as --param MaximumBatchingWindowInSeconds (checked as it is) for this run "
        "only: the provisioned queue's visibility timeout must cover it",
    )
    run.add_argument(
        "--batch-size", type=at_least(1), help="the batch size, as --param BatchSize for this run"
    )
    run.add_argument(
        "--max-concurrency", type=at_least(1), help="the maximum concurrency, as --param MaximumConcurrency"
    )
    run.add_argument(
        "--logs",
        action="store_true",
        help="also print the worker's JSON log lines and EMF metrics on stdout as they come (about 200 KB "
        "for 300 messages); without it, one line per batch on stderr and the summary at the end",
    )
    run.set_defaults(run_command=run_command)


def _add_dlq(commands: Any) -> None:
    dlq_parser = commands.add_parser(
        "dlq", help="inspect or redrive the dead-letter queue", description="Inspect or redrive the DLQ."
    )
    actions = dlq_parser.add_subparsers(title="actions", required=True, metavar="ACTION")
    inspect = actions.add_parser(
        "inspect",
        help="list parked messages: body, receive count, age",
        description="Lists DLQ messages without removing them (reading one counts as a receive, so "
        "the count shown includes this look).",
    )
    inspect.add_argument(
        "--limit", type=at_least(1), default=10, help="most messages to show (default: %(default)s)"
    )
    inspect.set_defaults(run_command=dlq_inspect_command)
    redrive = actions.add_parser(
        "redrive",
        help="send parked messages back to the main queue",
        description="Moves DLQ messages back to the main queue: with StartMessageMoveTask where the "
        "endpoint has it, else by sending each message to the main queue and only then deleting it "
        "from the DLQ (never lost; a crash can duplicate, which the worker absorbs).",
    )
    redrive.add_argument(
        "--method",
        choices=[method.value for method in dlq.RedriveMethod],
        default=dlq.RedriveMethod.AUTO.value,
        help="auto: move task, copy if the endpoint lacks it (default: %(default)s)",
    )
    redrive.add_argument(
        "--limit", type=at_least(1), default=1000, help="most messages to copy (default: %(default)s)"
    )
    redrive.set_defaults(run_command=dlq_redrive_command)


def _add_check_table(commands: Any) -> None:
    check = commands.add_parser(
        "check-table",
        help="check that the worker's table has the keys and TTL it needs",
        description="Reads the key schema and TTL of the table the stack's function is given (the "
        "app's table with --param ExistingTableName=NAME, else the stack's own) and says plainly "
        "what is missing: string keys PK and SK, TTL on ExpiresAt. Exit status 1 if anything is.",
    )
    check.set_defaults(run_command=check_table_command)


def serve_command(session: Session) -> int:
    stopped = threading.Event()
    with stop_on_signals(stopped.set), embedded_aws(port=session.args.port) as server:
        resources = provision_embedded(session.stack, session.sqs, seed=not session.args.no_seed)
        print(
            f"Embedded AWS (moto) on {server.endpoint_url}: stack {session.args.stack!r} from template.yaml"
        )
        _print_resources(resources)
        # The function's variables too (TABLE_NAME...): `lambda_handler(event, None)` runs in that shell.
        environment = {**server.client_environment(), **session.stack.function().environment}
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items())
        print(f"\nIn another shell:\n  export {exports}")
        for command in FOLLOW_UP_COMMANDS:
            print(f"  {shlex.join(['share-worker', *stack_options(session.args), *command])}")
        print("\nCtrl-C stops the server.", flush=True)
        stopped.wait()
    return 0


def provision_command(session: Session) -> int:
    resources = provision(session.stack, boto3.client("dynamodb"), session.sqs, report=print)
    if session.args.seed:
        seed_items(boto3.resource("dynamodb"), resources.table_name, sample_items())
    _print_resources(resources)
    return 0


def publish_command(session: Session) -> int:
    args = session.args
    queue_url = session.resources.queue_url
    if args.count is not None:
        item_ids = _csv(args.items) if args.items else [str(item["itemId"]) for item in sample_items()]
        rng = random.Random(args.seed)
        bodies = publisher.generated_bodies(args.count, item_ids, _csv(args.users), args.duplicate_ratio, rng)
        with tqdm(total=args.count, unit="msg", desc="publishing", file=sys.stderr) as progress:
            sent = publisher.send(session.sqs, queue_url, bodies, on_sent=progress.update)
    else:
        sent = publisher.send(session.sqs, queue_url, _single_source(args))
    print(f"sent {len(sent)} message(s) to {queue_url}")
    if len(sent) == 1:
        print(f"messageId {sent[0]}")
    return 0


def run_command(session: Session) -> int:
    args = session.args
    stack = _run_stack(session)
    stack.validate()
    require_table(stack, boto3.client("dynamodb"))
    _refuse_a_short_visibility_timeout(session, stack)
    settings = PollerSettings.from_stack(
        stack, session.resources, stop_when_drained=args.until_drained, retry_after_s=args.retry_after
    )
    function = stack.function()
    log.info(
        "polling %s: batch size %s, window %s s, concurrency %s, function timeout %s s",
        settings.queue_url,
        settings.batch_size,
        settings.batching_window_s,
        settings.maximum_concurrency,
        function.timeout_s,
    )
    inspect_command = shlex.join(["share-worker", *stack_options(args), "dlq", "inspect"])
    loop = WorkerLoop(session.sqs, settings, session.resources, function, args.logs, inspect_command)
    return loop.run()


def dlq_inspect_command(session: Session) -> int:
    parked = dlq.parked(session.sqs, session.resources.dlq_url)
    letters = dlq.inspect(session.sqs, session.resources.dlq_url, session.args.limit)
    rows = [
        [letter.message_id, letter.receive_count, f"{letter.age_s():.0f} s", _preview(letter.body)]
        for letter in letters
    ]
    if not rows:
        print("the DLQ is empty")
        return 0
    print(table(["messageId", "receives (incl. this look)", "age", "body"], rows))
    more = f"; `--limit {parked}` shows them all" if parked > len(rows) else ""
    print(f"\nshowing {len(rows)} of {parked} (approximate){more}")
    return 0


def dlq_redrive_command(session: Session) -> int:
    method = dlq.RedriveMethod(session.args.method)
    result = dlq.redrive(session.sqs, session.resources, method, session.args.limit)
    if result.method is dlq.RedriveMethod.MOVE_TASK:
        moved = f"moved {result.moved} message(s) back to the main queue"
        print(f"{moved} (StartMessageMoveTask); {result.failed} left")
    else:
        print(f"copied {result.moved} message(s) back to the main queue; {result.failed} could not be sent")
    return 0 if result.failed == 0 else 1


def check_table_command(session: Session) -> int:
    session.stack.validate()  # as run does: approving a table for values that never deploy helps no one
    name = session.stack.table_name()
    findings = check_table(boto3.client("dynamodb"), session.stack)
    rows = [[finding.requirement, "ok" if finding.met else "MISSING", finding.found] for finding in findings]
    print(f"table {name}\n{table(['needed', 'status', 'found'], rows)}\n")
    problems = advice(findings)
    print("\n".join(f"- {problem}" for problem in problems) or f"{name} has what the worker needs.")
    return 1 if problems else 0


def _run_stack(session: Session) -> Stack:
    """The stack with ``run``'s own options as the parameters they stand for, so that
    :meth:`Stack.validate` checks the values the poller runs with: Lambda refuses a batch above 10
    without a window however the values are given."""
    args = session.args
    options = {
        name: getattr(args, dest)
        for dest, (_, name) in RUN_OPTIONS.items()
        if getattr(args, dest) is not None
    }
    return replace(session.stack, overrides={**session.stack.overrides, **options})


def _refuse_a_short_visibility_timeout(session: Session, stack: Stack) -> None:
    """The queue keeps the visibility timeout it was provisioned with, sized for that provisioning's
    function timeout and batching window; a run with a longer timeout or window than those would see a
    batch's first messages handed out again while it still gathers or runs (the same message twice in
    one batch). What this run needs is the template's own lookup for its values."""
    attributes = session.sqs.get_queue_attributes(
        QueueUrl=session.resources.queue_url, AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    provisioned_s = int(attributes["VisibilityTimeout"])
    needed_s = int(stack.properties(QUEUE_ID, "VisibilityTimeout")["VisibilityTimeout"])
    if provisioned_s < needed_s:
        values = " ".join(f"--param {name}={stack.parameter(name)}" for name in VISIBILITY_PARAMETERS)
        raise CommandError(
            f"the queue was provisioned with a visibility timeout of {provisioned_s} s, and this run needs "
            f"{needed_s} s (six times its function timeout, {stack.function().timeout_s} s, plus its "
            f"batching window, {stack.event_source().batching_window_s} s): a batch's first messages would "
            f"be handed out again before it ends; provision the stack again with these values ({values}: "
            "restart `share-worker serve` with them, or deploy them), or run with the ones it has"
        )


def _single_source(args: argparse.Namespace) -> list[str]:
    if args.file:
        return publisher.bodies_from_file(args.file)
    if args.body is not None:
        return [args.body]
    if not args.user_id:
        raise CommandError("--item-id needs --user-id")
    return [publisher.share_body(args.item_id, args.user_id, args.event_id, args.shared_at)]


def _print_resources(resources: StackResources) -> None:
    print(
        table(
            ["resource", "where"],
            [["table", resources.table_name], ["queue", resources.queue_url], ["dlq", resources.dlq_url]],
        )
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _preview(body: str) -> str:
    flat = json.dumps(body)[1:-1] if "\n" in body else body
    return flat if len(flat) <= BODY_PREVIEW else flat[: BODY_PREVIEW - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
