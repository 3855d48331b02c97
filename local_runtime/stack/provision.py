"""Creates the stack's table and queues from ``template.yaml`` on a local endpoint, and seeds sample items.

Every setting comes from the template (:mod:`local_runtime.stack.template`), so local queues redrive and
time out like the deployed ones. This is for the embedded server or another local endpoint; real
AWS gets the same resources from ``sam deploy``. Creating is idempotent: a queue with the same
attributes or an existing table is left as it is. With ``ExistingTableName`` set, the table is the
app's: it is not created, and it must already be there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from local_runtime.stack.template import DLQ_ID, QUEUE_ID, TABLE_ID, Stack
from services.keys import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource
    from mypy_boto3_sqs.client import SQSClient

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
QUEUE_PROPERTIES_NOT_ATTRIBUTES = {"QueueName", "Tags"}


@dataclass(frozen=True)
class StackResources:
    """Where a provisioned (or deployed) stack's table and queues are."""

    table_name: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str

    @property
    def region(self) -> str:
        return self.queue_arn.split(":")[3]

    def function_arn(self, function_name: str) -> str:
        """The ARN a function of this stack would have (same region and account as its queue)."""
        _, partition, _, region, account, _ = self.queue_arn.split(":")
        return f"arn:{partition}:lambda:{region}:{account}:function:{function_name}"


class MissingTable(Exception):
    """The function's table is not there: the app's (``ExistingTableName``), or the stack's own."""


def provision(stack: Stack, dynamodb: DynamoDBClient, sqs: SQSClient) -> StackResources:
    """The DLQ, then the queue that redrives to it, then the table (unless it is the app's), as the
    template defines them; values CloudFormation would refuse are refused first."""
    stack.validate()
    creates_table = stack.creates(TABLE_ID)
    if not creates_table:
        require_table(stack, dynamodb)
    dlq_url = sqs.create_queue(**_queue_request(stack, DLQ_ID))["QueueUrl"]
    stack = stack.with_known({DLQ_ID: dlq_url, f"{DLQ_ID}.Arn": _queue_arn(sqs, dlq_url)})
    sqs.create_queue(**_queue_request(stack, QUEUE_ID))
    if creates_table:
        create_table(dynamodb, stack.table_name(), stack)
    return locate(stack, sqs)


def locate(stack: Stack, sqs: SQSClient) -> StackResources:
    """The resources of a stack that already exists, found by the names the template gives them."""
    queue_url = sqs.get_queue_url(QueueName=queue_name(stack, QUEUE_ID))["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=queue_name(stack, DLQ_ID))["QueueUrl"]
    return StackResources(
        table_name=stack.table_name(),
        queue_url=queue_url,
        queue_arn=_queue_arn(sqs, queue_url),
        dlq_url=dlq_url,
        dlq_arn=_queue_arn(sqs, dlq_url),
    )


def queue_name(stack: Stack, logical_id: str) -> str:
    return str(stack.properties(logical_id, "QueueName")["QueueName"])


def queue_attributes(properties: Mapping[str, Any]) -> dict[str, str]:
    """SQS attributes for a CloudFormation queue's (resolved) properties: same names, values as text."""
    return {
        name: _attribute_text(value)
        for name, value in properties.items()
        if name not in QUEUE_PROPERTIES_NOT_ATTRIBUTES
    }


def create_table(client: DynamoDBClient, name: str, stack: Stack | None = None) -> None:
    """Creates table ``name`` as the template's ``ShareTable``: keys, billing, encryption, TTL, PITR.

    Also what stands in for the app's own table locally: the keys and TTL the worker needs.
    """
    properties = (stack or Stack()).properties(TABLE_ID)
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            BillingMode=properties["BillingMode"],
            SSESpecification={"Enabled": bool(properties.get("SSESpecification", {}).get("SSEEnabled"))},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceInUseException":
            return
        raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    if ttl := properties.get("TimeToLiveSpecification"):
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    if recovery := properties.get("PointInTimeRecoverySpecification"):
        client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=recovery)


def item_record(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's metadata record from its sample description (``itemId``, ``name``, ``ownerId``...)."""
    record: dict[str, Any] = {
        **item_key(str(item["itemId"])),
        "ItemId": item["itemId"],
        "Name": item["name"],
        "SharedCount": item.get("sharedCount", 0),
        "IsPublic": item.get("isPublic", False),
        "CreatedAt": item.get("createdAt", "2025-11-01T09:00:00.000Z"),
        "UpdatedAt": item.get("createdAt", "2025-11-01T09:00:00.000Z"),
    }
    if item.get("ownerId"):
        record["UserId"] = item["ownerId"]
    return record


def seed_items(
    resource: DynamoDBServiceResource, table_name: str, items: Iterable[Mapping[str, Any]]
) -> None:
    with resource.Table(table_name).batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item_record(item))


def sample_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((SAMPLES / "items.json").read_text())
    return items


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((SAMPLES / "events" / name).read_text())
    return event


def require_table(stack: Stack, client: DynamoDBClient) -> None:
    """Raises :class:`MissingTable` unless the table the function is given exists on this endpoint:
    without it every message fails and ends in the DLQ."""
    try:
        client.describe_table(TableName=stack.table_name())
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise MissingTable(missing_table_reason(stack)) from None
        raise


def missing_table_reason(stack: Stack) -> str:
    """Why the function's table is missing and who creates it: the stack, or the app's stack."""
    name = stack.table_name()
    if stack.creates(TABLE_ID):
        return (
            f"table {name!r} of stack {stack.name!r} is not there: the stack creates it "
            "(`share-worker provision`, or `share-worker serve` locally); check --stack and the region"
        )
    return (
        f"ExistingTableName {name!r}: no such table on this endpoint; the app's stack creates it "
        "(locally: `share-worker serve` or `make run EXISTING_TABLE=...` create one as the app would)"
    )


def _queue_request(stack: Stack, logical_id: str) -> dict[str, Any]:
    properties = stack.properties(logical_id)
    return {"QueueName": str(properties["QueueName"]), "Attributes": queue_attributes(properties)}


def _queue_arn(sqs: SQSClient, queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
