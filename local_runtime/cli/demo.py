"""``make run``: the whole loop on the embedded AWS, with the settings of ``template.yaml``.

Start moto's server, provision the stack from the template, seed ``samples/items.json``, publish the
messages of ``samples/events/mixed-batch.json`` (a share, its duplicate, a public item, a missing
item, a private item shared by a stranger, an invalid message), let the poller play Lambda's SQS
event source mapping until the queue is drained, and report what happened.

Failed messages reappear after :data:`RETRY_AFTER_S` instead of the queue's three minutes (the
poller's local shortcut), so the invalid message reaches the DLQ in seconds.

Ctrl-C ends it at once with one line and exit status 130: the execution environments are killed,
the invocations they ran end, and the embedded server stops (:mod:`local_runtime.cli.interrupts`).

``--existing-table NAME`` (``make run EXISTING_TABLE=NAME``) runs the same loop the way the worker
is deployed next to the app: table NAME is created first, as the app's stack would create it, and the
stack is provisioned with ``ExistingTableName=NAME``, so it creates no table of its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import boto3

from local_runtime.aws.embedded_aws import embedded_aws
from local_runtime.cli import dlq
from local_runtime.cli.interrupts import INTERRUPTED_STATUS, ending_on_interrupt
from local_runtime.cli.publisher import record_bodies, send
from local_runtime.cli.report import echoed_logs, table
from local_runtime.lambda_service.capture import Captured, captured_telemetry
from local_runtime.lambda_service.execution_environment import EnvironmentPool
from local_runtime.lambda_service.poller import PollerSettings, SqsPoller
from local_runtime.stack.provision import (
    StackResources,
    create_table,
    provision,
    sample_event,
    sample_items,
    seed_items,
)
from local_runtime.stack.template import QUEUE_ID, TABLE_ID, Stack, TemplateError
from services.activity_service import ActivityService
from services.dynamodb_service import DynamoDBService
from services.keys import item_key

SAMPLE_BATCH = "mixed-batch.json"
FEED_USER = "user123"
RETRY_AFTER_S = 1
INTERRUPTED = "make run: interrupted; the execution environments and the embedded server are stopped"


def main(argv: Sequence[str] | None = None) -> None:
    try:
        _demo(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        raise SystemExit(INTERRUPTED_STATUS) from None


def _demo(argv: Sequence[str] | None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime.cli.demo", description="The whole loop on the embedded AWS (make run)."
    )
    parser.add_argument(
        "--existing-table",
        metavar="NAME",
        help="run on the app's table NAME (parameter ExistingTableName), made first as the app would make it",
    )
    app_table = parser.parse_args(argv).existing_table
    stack = Stack(overrides={"ExistingTableName": app_table} if app_table else {})
    try:
        stack.validate()
    except TemplateError as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    started = time.monotonic()
    with (
        embedded_aws() as aws,
        echoed_logs(["local_runtime.lambda_service.poller"], sys.stdout, "  poller: %(message)s"),
    ):
        sqs = boto3.client("sqs")
        if app_table:
            create_table(boto3.client("dynamodb"), app_table)
        resources = provision(stack, boto3.client("dynamodb"), sqs)
        seed_items(boto3.resource("dynamodb"), resources.table_name, sample_items())
        settings = PollerSettings.from_stack(
            stack, resources, retry_after_s=RETRY_AFTER_S, stop_when_drained=True
        )
        print(
            f"Embedded AWS (moto) at {aws.endpoint_url}; stack {stack.name!r} provisioned from template.yaml"
        )
        print(f"{_settings_table(stack, settings)}\n")

        event = sample_event(SAMPLE_BATCH)
        records = event["Records"]
        sent = send(sqs, resources.queue_url, record_bodies(event))
        names = dict(zip(sent, [record["messageId"] for record in records], strict=True))
        print(f"Published the {len(sent)} messages of samples/events/{SAMPLE_BATCH}; polling until drained:")

        function = stack.function()
        environments = EnvironmentPool(function, resources.function_arn(function.name))
        poller = SqsPoller(sqs, settings, environments.invoke)
        with captured_telemetry() as captured, ending_on_interrupt(environments, poller), environments:
            stats = poller.run()
        print(
            f"\nDrained: {stats.batches} batches, {stats.received} deliveries, {stats.deleted} deleted, "
            f"{stats.failed_records} failed deliveries\n"
        )
        _report(resources, names, captured)
    print(f"\nThe whole loop took {time.monotonic() - started:.1f} s.")


def _settings_table(stack: Stack, settings: PollerSettings) -> str:
    queue = stack.properties(QUEUE_ID, "VisibilityTimeout")
    rows: list[list[Any]] = [
        [
            "table",
            stack.table_name(),
            "template" if stack.creates(TABLE_ID) else "ExistingTableName (the app's)",
        ],
        ["batch size", settings.batch_size, "template"],
        ["batching window", f"{settings.batching_window_s} s", "template"],
        ["maximum concurrency", settings.maximum_concurrency, "template"],
        ["function timeout", f"{stack.function().timeout_s} s", "template"],
        ["queue visibility timeout", f"{queue['VisibilityTimeout']} s", "template"],
        ["maxReceiveCount", stack.parameter("MaxReceiveCount"), "template"],
        ["failed messages reappear after", f"{settings.retry_after_s} s", "local shortcut"],
    ]
    return table(["setting", "value", "from"], rows)


def _report(resources: StackResources, names: dict[str, str], captured: Captured) -> None:
    print("== What happened to each message ==")
    print(table(["message", "deliveries", "outcome"], _message_rows(names, captured)))

    print("\n== Items ==")
    print(table(["itemId", "name", "owner", "SharedCount", "IsPublic"], _item_rows(resources.table_name)))

    dynamodb = DynamoDBService(
        resources.table_name, table=boto3.resource("dynamodb").Table(resources.table_name)
    )
    feed = ActivityService(dynamodb).list_user_activity(FEED_USER, limit=10)
    print(f"\n== Activity feed of {FEED_USER}, newest first ==")
    print(
        table(
            ["SharedAt", "ItemName", "EventId"],
            [[e["SharedAt"], e["ItemName"], e["EventId"]] for e in feed.entries],
        )
    )

    print("\n== Dead-letter queue ==")
    letters = dlq.inspect(boto3.client("sqs"), resources.dlq_url)
    rows = [
        [names.get(letter.message_id, letter.message_id), letter.receive_count, letter.body]
        for letter in letters
    ]
    print(table(["message", "receives (incl. this look)", "body"], rows) if rows else "empty")

    print("\n== Metrics emitted (CloudWatch EMF, namespace Wdrbe) ==")
    print(table(["metric", "total"], sorted(captured.metrics.items())))


def _message_rows(names: dict[str, str], captured: Captured) -> list[list[Any]]:
    deliveries: Counter[str] = Counter()
    outcome: dict[str, str] = {}
    for line in captured.logs:
        message_id = line.get("message_id")
        if message_id in names:
            deliveries[message_id] += 1
            outcome[message_id] = line.get("outcome") or f"FAILED: {line.get('message', '')}"
    return [
        [name, deliveries[message_id], outcome.get(message_id, "-")] for message_id, name in names.items()
    ]


def _item_rows(table_name: str) -> list[list[Any]]:
    items = boto3.resource("dynamodb").Table(table_name)
    rows = []
    for sample in sample_items():
        record = items.get_item(Key=item_key(sample["itemId"])).get("Item", {})
        rows.append(
            [
                sample["itemId"],
                record.get("Name"),
                record.get("UserId"),
                record.get("SharedCount"),
                record.get("IsPublic"),
            ]
        )
    return rows


if __name__ == "__main__":
    main()
