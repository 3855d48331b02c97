"""End-to-end local throughput: share events through SQS, the worker and DynamoDB on the embedded server.

``python -m bench.throughput [--events 5000]``: ten events per item, so items repeat within batches.

A minimal loop stands in for Lambda's SQS event source mapping until the local poller lands: it
receives up to 10 messages, hands them to the contender in Lambda's record shape, and deletes those
not reported in ``batchItemFailures``. One loop is one Lambda container, so batches run one after
another. Both contenders drain the same number of events from their own queue into their own table.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from bench.harness import CONTENDERS, SHARER, BenchTable, Contender, Scenario, local_aws, print_report
from local_runtime.client_hooks import counting_requests
from tests.factories import share_body

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

BATCH_SIZE = 10
SEGMENTS = 5


@dataclass
class Drained:
    """What draining one queue took: overall and per consecutive segment of events."""

    events: int
    seconds: float = 0.0
    batches: int = 0
    requests: int = 0
    segment_rates: list[float] = field(default_factory=list)


def lambda_record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def fill_queue(sqs: SQSClient, item_ids: list[str], events: int) -> tuple[str, str]:
    queue_url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for start in range(0, events, BATCH_SIZE):
        entries = [
            {"Id": str(index), "MessageBody": share_body(item_ids[index % len(item_ids)], SHARER)}
            for index in range(start, min(start + BATCH_SIZE, events))
        ]
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
    return queue_url, queue_arn


def delete(sqs: SQSClient, queue_url: str, messages: list[MessageTypeDef]) -> None:
    """Deletes what the batch settled; failed records stay for SQS to deliver again."""
    if messages:
        entries = [
            {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(messages)
        ]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]


def drain(sqs: SQSClient, queue_url: str, queue_arn: str, contender: Contender, events: int) -> Drained:
    result = Drained(events=events)
    done = 0
    segment = max(1, events // SEGMENTS)
    started = segment_started = time.perf_counter()
    with counting_requests(contender.client) as requests:
        while done < events:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=BATCH_SIZE, AttributeNames=["All"], WaitTimeSeconds=1
            ).get("Messages", [])
            if not messages:
                continue
            response = contender({"Records": [lambda_record(message, queue_arn) for message in messages]})
            failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
            succeeded = [message for message in messages if message["MessageId"] not in failed]
            delete(sqs, queue_url, succeeded)
            result.batches += 1
            before, done = done, done + len(succeeded)
            if done // segment > before // segment and len(result.segment_rates) < SEGMENTS:
                now = time.perf_counter()
                result.segment_rates.append(segment / (now - segment_started))
                segment_started = now
    result.seconds = time.perf_counter() - started
    result.requests = requests.total
    return result


def run(make: Callable[[str], Contender], events: int, items: int) -> tuple[str, Drained]:
    table = BenchTable(Scenario("throughput", records=events, items=items))
    contender = make(table.name)
    sqs = boto3.client("sqs")
    queue_url, queue_arn = fill_queue(sqs, table.item_ids, events)
    drained = drain(sqs, queue_url, queue_arn, contender, events)
    assert table.shares_counted() == events, "every event must be counted exactly once"
    return contender.name, drained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    arguments = parser.parse_args()
    items = max(1, arguments.events // 10)
    with local_aws():
        results = [run(make, arguments.events, items) for make in CONTENDERS]
    rows = [
        [
            name,
            f"{result.events / result.seconds:.0f} events/s",
            f"{result.seconds:.1f} s",
            result.batches,
            f"{result.requests / result.events:.2f}",
            " → ".join(f"{rate:.0f}" for rate in result.segment_rates),
        ]
        for name, result in results
    ]
    print_report(
        f"End-to-end local throughput: {arguments.events} events on {items} items",
        [
            "SQS -> receive/handle/delete loop (one container, batches of up to 10) -> contender -> DynamoDB",
            "(the embedded moto server, in a process of its own). No latency added.",
            "'events/s by fifth': the rate over each fifth of the run, as the table fills up.",
        ],
        ["contender", "throughput", "time", "batches", "DynamoDB requests / event", "events/s by fifth"],
        rows,
    )


if __name__ == "__main__":
    main()
