"""A provisioned stack of its own per test, and the poller run against it with a bounded deadline."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest

from local_runtime.lambda_service.execution_environment import EnvironmentPool, InvocationResult
from local_runtime.lambda_service.poller import PollerSettings, PollerStats, SqsPoller
from local_runtime.stack.provision import StackResources, provision, sample_items, seed_items
from local_runtime.stack.template import Function, Stack
from tests.conftest import ShareTable

DRAIN_DEADLINE_S = 60
BEHAVIOURS_HANDLER = "tests.integration.behaviours.lambda_handler"
FAST_RETRIES = {"retry_after_s": 1, "batching_window_s": 0, "idle_wait_s": 1, "stop_when_drained": True}
"""Poller overrides for tests: failed messages back after 1 s, no batching wait, quick drain checks."""


@dataclass
class Invocations:
    """Every invocation's event and result, as the poller's observer heard them."""

    calls: list[tuple[dict[str, Any], InvocationResult]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], result: InvocationResult) -> None:
        with self.lock:
            self.calls.append((event, result))

    def deliveries(self, event_id: str) -> int:
        """How many invocations carried a message with this eventId in its body."""
        return sum(1 for event, _ in self.calls for record in event["Records"] if event_id in record["body"])


@dataclass
class LocalStack:
    stack: Stack
    resources: StackResources
    table: ShareTable

    @property
    def sqs(self) -> Any:
        return boto3.client("sqs")

    def function(self, **changes: Any) -> Function:
        """The template's function, running the test behaviours handler unless told otherwise."""
        return replace(self.stack.function(), **{"handler": BEHAVIOURS_HANDLER, **changes})

    def send(self, *bodies: dict[str, Any] | str, behaviour: str | None = None) -> None:
        attributes = {"test-behaviour": {"DataType": "String", "StringValue": behaviour}} if behaviour else {}
        for body in bodies:
            self.sqs.send_message(
                QueueUrl=self.resources.queue_url,
                MessageBody=body if isinstance(body, str) else json.dumps(body),
                MessageAttributes=attributes,
            )

    def queue_counts(self, queue_url: str) -> dict[str, int]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        return {name: int(attributes[name]) for name in names}

    def drain(
        self, function: Function | None = None, invocations: Invocations | None = None, **overrides: Any
    ) -> tuple[PollerStats, int]:
        """Run the poller until the queue is drained; returns its stats and how many environments started."""
        settings = PollerSettings.from_stack(self.stack, self.resources, **{**FAST_RETRIES, **overrides})
        function = function or self.function()
        with EnvironmentPool(function, self.resources.function_arn(function.name)) as environments:
            poller = SqsPoller(self.sqs, settings, environments.invoke, invocations)
            runner = threading.Thread(target=poller.run, daemon=True)
            runner.start()
            runner.join(DRAIN_DEADLINE_S)
            if runner.is_alive():
                poller.stop()
                runner.join(DRAIN_DEADLINE_S)
                pytest.fail(f"the queue was not drained within {DRAIN_DEADLINE_S} s: {poller.stats}")
        return poller.stats, environments.started


@contextmanager
def local_stack(**overrides: str) -> Iterator[LocalStack]:
    """A stack with a unique name on the embedded server, provisioned from the template (with these
    parameter overrides) and seeded."""
    stack = Stack(name=f"test-{uuid.uuid4().hex[:10]}", overrides=overrides)
    resources = provision(stack, boto3.client("dynamodb"), boto3.client("sqs"))
    seed_items(boto3.resource("dynamodb"), resources.table_name, sample_items())
    yield LocalStack(stack, resources, ShareTable(resources.table_name))


def share(item_id: str, user_id: str, event_id: str) -> dict[str, str]:
    return {"itemId": item_id, "userId": user_id, "sharedAt": "2025-11-13T10:30:00Z", "eventId": event_id}
