"""The local event source mapping end to end: moto's SQS and DynamoDB over HTTP, the real worker in
execution environments, outcomes read back from the table and the queues."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli import dlq
from tests.integration import behaviours
from tests.local_stack import Invocations, LocalStack, local_stack, share

pytestmark = pytest.mark.integration

LAMBDA_RECORD_FIELDS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "md5OfMessageAttributes",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}
SYSTEM_ATTRIBUTES = {
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
}


@pytest.fixture
def local(aws: EmbeddedAws) -> Iterator[LocalStack]:
    with local_stack() as stack:
        yield stack


def shared_count(local: LocalStack, item_id: str) -> int:
    item = local.table.item(item_id)
    assert item is not None
    return int(item["SharedCount"])


def dead_letters(local: LocalStack) -> list[dlq.DeadLetter]:
    return dlq.inspect(local.sqs, local.resources.dlq_url)


def test_one_bad_message_is_redelivered_alone_until_the_dlq_while_the_rest_apply_once(
    local: LocalStack,
) -> None:
    good = [
        share("test-item", "user123", "e-owner"),
        share("01JCWXYZ8Q4KTV3M9N2P5R7S6A", "user789", "e-public"),
    ]
    local.send(*good, "not json", share("test-item", "user123", "e-owner"))
    invocations = Invocations()

    stats, _ = local.drain(invocations=invocations)

    first_batch, *retries = [event["Records"] for event, _ in invocations.calls]
    assert len(first_batch) == 4
    assert [[record["body"] for record in batch] for batch in retries] == [["not json"], ["not json"]]
    assert (stats.deleted, stats.failed_records, stats.failed_invocations) == (3, 3, 0)
    [letter] = dead_letters(local)
    assert letter.body == "not json"
    assert letter.receive_count == 4  # three deliveries, then the look that read it
    assert shared_count(local, "test-item") == 1
    assert shared_count(local, "01JCWXYZ8Q4KTV3M9N2P5R7S6A") == 5
    assert len(local.table.records_with_prefix("USER#")) == 2
    assert local.queue_counts(local.resources.queue_url) == {
        "ApproximateNumberOfMessages": 0,
        "ApproximateNumberOfMessagesNotVisible": 0,
    }


def test_message_parked_by_a_dynamodb_outage_is_applied_exactly_once_after_a_redrive(
    local: LocalStack,
) -> None:
    body = share("test-item", "user123", "e-outage")
    local.send(body)
    outage = local.function(environment={**local.stack.function().environment, "TABLE_NAME": "table-gone"})

    local.drain(function=outage)

    assert [letter.body for letter in dead_letters(local)] == [json.dumps(body)]
    assert shared_count(local, "test-item") == 0

    result = dlq.redrive(local.sqs, local.resources, dlq.RedriveMethod.COPY)
    local.send(body)  # the copy a crash between re-send and delete would leave behind
    local.drain()

    assert (result.method, result.moved) == (dlq.RedriveMethod.COPY, 1)
    assert dead_letters(local) == []
    assert shared_count(local, "test-item") == 1
    assert len(local.table.records_with_prefix("USER#user123")) == 1
    assert len(local.table.records_with_prefix("EVENT#e-outage")) == 1


@pytest.mark.parametrize("behaviour", [behaviours.RAISE, behaviours.NAME_A_STRANGER])
def test_a_failed_invocation_gets_its_whole_batch_again(local: LocalStack, behaviour: str) -> None:
    local.send(share("test-item", "user123", "e-1"), share("01JCWXYZ8Q4KTV3M9N2P5R7S6A", "user1", "e-2"))
    local.send(share("01JCWXYZ8Q4KTV3M9N2P5R7S6A", "user2", "e-3"), behaviour=behaviour)
    invocations = Invocations()

    stats, _ = local.drain(invocations=invocations)

    assert [len(event["Records"]) for event, _ in invocations.calls] == [3, 3]
    assert (stats.failed_invocations, stats.deleted) == (1, 3)
    assert shared_count(local, "test-item") == 1
    assert shared_count(local, "01JCWXYZ8Q4KTV3M9N2P5R7S6A") == 6


def test_an_invocation_past_the_function_timeout_is_ended_and_its_batch_retried(local: LocalStack) -> None:
    local.send(share("test-item", "user123", "e-slow"), behaviour=behaviours.HANG)
    invocations = Invocations()

    short_timeout = local.function(timeout_s=7)

    stats, environments = local.drain(function=short_timeout, invocations=invocations)

    [(_, timed_out), (_, retried)] = invocations.calls
    assert not timed_out.completed and "timed out" in str(timed_out.error)
    assert retried.completed
    assert environments == 2  # the timed-out environment was destroyed, the retry got a fresh one
    assert stats.failed_invocations == 1
    assert shared_count(local, "test-item") == 1


def test_batches_stay_within_batch_size_and_maximum_concurrency(local: LocalStack) -> None:
    local.send(*[share("01JCWXYZ8Q4KTV3M9N2P5R7S6A", f"user-{n}", f"e-{n}") for n in range(23)])
    invocations = Invocations()

    stats, environments = local.drain(invocations=invocations, batch_size=4, maximum_concurrency=2)

    sizes = [len(event["Records"]) for event, _ in invocations.calls]
    assert sum(sizes) == 23 and max(sizes) <= 4
    assert stats.most_in_flight <= 2 and environments <= 2
    assert shared_count(local, "01JCWXYZ8Q4KTV3M9N2P5R7S6A") == 4 + 23


def test_event_has_every_field_lambda_sends_and_the_context_counts_down_from_the_timeout(
    local: LocalStack,
) -> None:
    body = json.dumps(share("test-item", "user123", "e-fields"))
    local.send(body, behaviour=behaviours.ECHO_CONTEXT)
    invocations = Invocations()

    local.drain(invocations=invocations)

    [(event, result)] = invocations.calls
    [record] = event["Records"]
    assert set(record) == LAMBDA_RECORD_FIELDS
    assert record["body"] == body
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()
    assert set(record["attributes"]) >= SYSTEM_ATTRIBUTES
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"] == {
        "test-behaviour": {
            "stringValue": behaviours.ECHO_CONTEXT,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert (record["eventSource"], record["eventSourceARN"]) == ("aws:sqs", local.resources.queue_arn)
    assert record["awsRegion"] == "us-east-1"
    context: dict[str, Any] = result.response["context"]
    function = local.stack.function()
    assert context["function_name"] == function.name
    assert context["invoked_function_arn"] == local.resources.function_arn(function.name)
    assert context["aws_request_id"] == result.request_id
    assert context["memory_limit_in_mb"] == function.memory_mb
    assert 0 < context["remaining_ms"] <= function.timeout_s * 1000
    assert shared_count(local, "test-item") == 1
