"""The stack on the embedded server, for ``serve`` and ``invoke --embedded``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from local_runtime.stack.provision import StackResources, create_table, provision, sample_items, seed_items
from local_runtime.stack.template import TABLE_ID, Stack

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


def provision_embedded(stack: Stack, sqs: SQSClient, *, seed: bool) -> StackResources:
    """The embedded server stands in for the app's account too: with ``ExistingTableName`` the app's
    table is created first, as the app's stack would create it; then the stack from the template, then
    (with ``seed``) ``samples/items.json`` in the function's table."""
    dynamodb = boto3.client("dynamodb")
    if not stack.creates(TABLE_ID):
        create_table(dynamodb, stack.table_name())
    resources = provision(stack, dynamodb, sqs)
    if seed:
        seed_items(boto3.resource("dynamodb"), resources.table_name, sample_items())
    return resources
