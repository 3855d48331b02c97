"""The baseline as a Lambda handler, ``bench.baseline_handler.lambda_handler``.

The throughput benchmark runs it in the local poller's execution environments in place of
``handler.lambda_handler``, with the same function settings: one instance per container, built at
the first invocation on the table named by ``TABLE_NAME``, like the worker's.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from bench.baseline import SequentialBaseline
from services.bootstrap import dynamodb_resource
from services.dynamodb_service import DynamoDBService


@cache
def baseline() -> SequentialBaseline:
    name = os.environ["TABLE_NAME"]
    return SequentialBaseline(DynamoDBService(name, table=dynamodb_resource().Table(name)))


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return baseline()(event)
