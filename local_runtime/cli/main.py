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
import os
import random
import shlex
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from local_runtime.aws.embedded_aws import embedded_aws
from local_runtime.cli import dlq, invoke_command, publisher
from local_runtime.cli.embedded_stack import provision_embedded
from local_runtime.cli.interrupts import stop_on_signals
from local_runtime.cli.report import echoed_logs, table
from local_runtime.cli.table_check import advice, check_table
from local_runtime.cli.worker_loop import WorkerLoop
from local_runtime.lambda_service.poller import PollerSettings
from local_runtime.stack.provision import (
    MissingTable,
    StackResources,
    locate,
    provision,
    require_table,
    sample_items,
    seed_items,
)
from local_runtime.stack.template import (
    DEFAULT_STACK_NAME,
    QUEUE_ID,
    TEMPLATE_PATH,
    Stack,
    TemplateError,
    load_template,
)
from services.activity_service import ActivityService, InvalidCursor
from services.dynamodb_service import DynamoDBService

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

DEFAULT_PORT = 5055
SAMPLE_USERS = ("user123", "user456", "user789")
STACK_ENVIRONMENT_VARIABLE = "SHARE_WORKER_STACK"
BODY_PREVIEW = 100
FOLLOW_UP_COMMANDS = (
    ("publish", "--count", "100", "--duplicate-ratio", "0.1"),
    ("run", "--until-drained", "--retry-after", "1"),
)
"""What ``serve`` suggests for another shell, after the options that name the same stack."""
VISIBILITY_PARAMETERS = ("FunctionTimeout", "MaximumBatchingWindowInSeconds")
"""The parameters the queue's visibility timeout is looked up for."""

log = logging.getLogger("share-worker")


class Session:
    """What a command needs, built on first use from the global options and boto3's configuration."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    @cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs")

    @cached_property
    def stack(self) -> Stack:
        region = boto3.session.Session().region_name or "us-east-1"
        return Stack(
            load_template(self.args.template), self.args.stack, region, overrides=dict(self.args.param)
        )

    @cached_property
    def resources(self) -> StackResources:
        try:
            return locate(self.stack, self.sqs)
        except ClientError as error:
            raise CommandError(
                f"stack {self.args.stack!r} is not there ({_error_code(error)}): "
                "start `share-worker serve`, or run `share-worker provision` against your endpoint"
            ) from error

    def table_access(self) -> DynamoDBService:
        name = self.resources.table_name
        return DynamoDBService(name, table=boto3.resource("dynamodb").Table(name))


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[Session], int] = args.run_command
    with echoed_logs([log.name, "local_runtime"], sys.stderr, "%(asctime)s %(name)s: %(message)s"):
        try:
            return command(Session(args))
        except (CommandError, TemplateError, MissingTable, publisher.PublishError) as error:
            print(f"share-worker: {error}", file=sys.stderr)
        except (ClientError, BotoCoreError) as error:
            print(f"share-worker: AWS call failed: {error}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="share-worker",
        description="Publish share events, run the worker loop, inspect and redrive the DLQ, "
        "and look at items and feeds; against the embedded server or any endpoint boto3 is configured for.",
    )
    parser.add_argument(
        "--stack",
        default=os.environ.get(STACK_ENVIRONMENT_VARIABLE, DEFAULT_STACK_NAME),
        help=f"stack name the template's resource names derive from (default: ${STACK_ENVIRONMENT_VARIABLE} "
        f"or {DEFAULT_STACK_NAME})",
    )
    parser.add_argument(
        "--template", type=Path, default=TEMPLATE_PATH, help="the SAM template (default: %(default)s)"
    )
    parser.add_argument(
        "--param",
        metavar="NAME=VALUE",
        type=_parameter,
        action="append",
        default=[],
        help="override a template parameter, e.g. --param MaxReceiveCount=5 (repeatable)",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    _add_serve(commands)
    _add_provision(commands)
    _add_publish(commands)
    _add_run(commands)
    _add_dlq(commands)
    _add_show(commands)
    _add_check_table(commands)
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
        "--port", type=_at_least(0), default=DEFAULT_PORT, help="port on 127.0.0.1 (default: %(default)s)"
    )
    serve.add_argument("--no-seed", action="store_true", help="do not seed samples/items.json")
    serve.set_defaults(run_command=serve_command)


def _add_provision(commands: Any) -> None:
    provision_ = commands.add_parser(
        "provision",
        help="create the stack's table and queues from template.yaml on the configured endpoint",
        description="Creates the DLQ, the queue and the table exactly as template.yaml defines them, on "
        "the endpoint boto3 is configured for (idempotent). For real AWS use `sam deploy` instead.",
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
    source.add_argument("--file", type=Path, help="JSON object or array of objects; strings are sent as-is")
    source.add_argument("--body", help="one raw message body, sent exactly as given")
    source.add_argument("--count", type=_at_least(1), help="generate this many events over the sample items")
    publish.add_argument("--user-id", help="sharing user of a single event")
    publish.add_argument("--event-id", help="eventId of a single event (default: a new UUID)")
    publish.add_argument("--shared-at", help="sharedAt of a single event (default: now)")
    publish.add_argument(
        "--duplicate-ratio",
        type=float,
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
        type=_at_least(0),
        metavar="SECONDS",
        help="local shortcut: failed messages reappear after SECONDS, not the queue's visibility timeout",
    )
    run.add_argument(
        "--batch-window",
        type=_at_least(0),
        metavar="SECONDS",
        help="the batching window, as --param MaximumBatchingWindowInSeconds (checked as it is) for this run "
        "only: the provisioned queue's visibility timeout must cover it",
    )
    run.add_argument(
        "--batch-size", type=_at_least(1), help="the batch size, as --param BatchSize for this run"
    )
    run.add_argument(
        "--max-concurrency", type=_at_least(1), help="the maximum concurrency, as --param MaximumConcurrency"
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
        "--limit", type=_at_least(1), default=10, help="most messages to show (default: %(default)s)"
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
        "--limit", type=_at_least(1), default=1000, help="most messages to copy (default: %(default)s)"
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


def _add_show(commands: Any) -> None:
    show = commands.add_parser("show", help="show an item or a user's feed", description="Read the table.")
    things = show.add_subparsers(title="what", required=True, metavar="WHAT")
    item = things.add_parser("item", help="an item's record", description="Shows one item's record.")
    item.add_argument("item_id")
    item.set_defaults(run_command=show_item_command)
    feed = things.add_parser(
        "feed", help="a user's activity feed, newest first", description="Shows one page of a user's feed."
    )
    feed.add_argument("user_id")
    feed.add_argument(
        "--limit", type=_at_least(1), default=20, help="entries per page (default: %(default)s)"
    )
    feed.add_argument("--cursor", help="the cursor printed under the previous page")
    feed.set_defaults(run_command=show_feed_command)


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
            print(f"  {shlex.join(['share-worker', *_stack_options(session.args), *command])}")
        print("\nCtrl-C stops the server.", flush=True)
        stopped.wait()
    return 0


def provision_command(session: Session) -> int:
    resources = provision(session.stack, boto3.client("dynamodb"), session.sqs)
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
    inspect_command = shlex.join(["share-worker", *_stack_options(args), "dlq", "inspect"])
    loop = WorkerLoop(session.sqs, settings, session.resources, function, args.logs, inspect_command)
    return loop.run()


def dlq_inspect_command(session: Session) -> int:
    letters = dlq.inspect(session.sqs, session.resources.dlq_url, session.args.limit)
    rows = [
        [letter.message_id, letter.receive_count, f"{letter.age_s():.0f} s", _preview(letter.body)]
        for letter in letters
    ]
    print(
        table(["messageId", "receives (incl. this look)", "age", "body"], rows)
        if rows
        else "the DLQ is empty"
    )
    return 0


def dlq_redrive_command(session: Session) -> int:
    method = dlq.RedriveMethod(session.args.method)
    result = dlq.redrive(session.sqs, session.resources, method, session.args.limit)
    if result.task_handle:
        print(
            f"StartMessageMoveTask started ({result.task_handle}); SQS moves the messages in the background"
        )
    else:
        print(f"copied {result.moved} message(s) back to the main queue; {result.failed} could not be sent")
    return 0 if result.failed == 0 else 1


def show_item_command(session: Session) -> int:
    item = session.table_access().get_item(session.args.item_id)
    if item is None:
        raise CommandError(f"no item {session.args.item_id!r} in {session.resources.table_name}")
    print(table(["attribute", "value"], sorted(item.items())))
    return 0


def show_feed_command(session: Session) -> int:
    args = session.args
    try:
        page = ActivityService(session.table_access()).list_user_activity(
            args.user_id, args.limit, args.cursor
        )
    except InvalidCursor as error:
        raise CommandError(str(error)) from None
    rows = [
        [entry["SharedAt"], entry["ItemName"], entry["ItemId"], entry["EventId"]] for entry in page.entries
    ]
    print(
        table(["SharedAt", "ItemName", "ItemId", "EventId"], rows)
        if rows
        else f"{args.user_id} has no activity"
    )
    if page.next_cursor:
        print(f"\nnext page: share-worker show feed {args.user_id} --cursor {page.next_cursor}")
    return 0


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
        name: value
        for name, value in (
            ("BatchSize", args.batch_size),
            ("MaximumBatchingWindowInSeconds", args.batch_window),
            ("MaximumConcurrency", args.max_concurrency),
        )
        if value is not None
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


def _stack_options(args: argparse.Namespace) -> list[str]:
    """The global options that make another command address the stack this one did: a command
    without the ``--param``s would derive other names (another table) from the template."""
    options = [] if args.stack == DEFAULT_STACK_NAME else ["--stack", args.stack]
    if args.template != TEMPLATE_PATH:
        options += ["--template", str(args.template)]
    for name, value in args.param:
        options += ["--param", f"{name}={value}"]
    return options


def _print_resources(resources: StackResources) -> None:
    print(
        table(
            ["resource", "where"],
            [["table", resources.table_name], ["queue", resources.queue_url], ["dlq", resources.dlq_url]],
        )
    )


def _at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number not below ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _preview(body: str) -> str:
    flat = json.dumps(body)[1:-1] if "\n" in body else body
    return flat if len(flat) <= BODY_PREVIEW else flat[: BODY_PREVIEW - 1] + "…"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "error"))


if __name__ == "__main__":
    sys.exit(main())
