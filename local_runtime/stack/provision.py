"""Creates the stack's table and queues from ``template.yaml`` on a local endpoint, and seeds sample items.

Every setting comes from the template (:mod:`local_runtime.stack.template`), so local queues redrive and
time out like the deployed ones. This is for the embedded server or another local endpoint; real
AWS gets the same resources from ``sam deploy``. Provisioning is idempotent and reconciles what a
second run with other parameters changes: an existing queue gets the template's attributes
(``SetQueueAttributes``), an existing table its TTL; keys cannot change in place, so a table whose
keys differ is refused (:class:`MismatchedTable`). With ``ExistingTableName`` set, the table is the
app's: it is not created, and it must already be there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
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
QUEUE_EXISTS_CODES = {"QueueAlreadyExists", "QueueNameExists"}
"""What ``CreateQueue`` answers for a queue of that name with other attributes (JSON and query protocol)."""

Report = Callable[[str], object]
"""Hears one line per change made to a resource that already existed."""


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


class MismatchedTable(Exception):
    """The stack's table exists with keys other than the template's: DynamoDB cannot change them."""


class MissingTable(Exception):
    """The function's table is not there: the app's (``ExistingTableName``), or the stack's own."""


def provision(
    stack: Stack, dynamodb: DynamoDBClient, sqs: SQSClient, report: Report | None = None
) -> StackResources:
    """The DLQ, then the queue that redrives to it, then the table (unless it is the app's), as the
    template defines them; values CloudFormation would refuse are refused first. Resources that exist
    are brought to the template's settings where AWS allows it, each change told to ``report``."""
    report = report or (lambda line: None)
    stack.validate()
    creates_table = stack.creates(TABLE_ID)
    if not creates_table:
        require_table(stack, dynamodb)
    dlq_url = _ensure_queue(sqs, _queue_request(stack, DLQ_ID), report)
    stack = stack.with_known({DLQ_ID: dlq_url, f"{DLQ_ID}.Arn": _queue_arn(sqs, dlq_url)})
    _ensure_queue(sqs, _queue_request(stack, QUEUE_ID), report)
    if creates_table and not create_table(dynamodb, stack.table_name(), stack):
        _reconcile_table(dynamodb, stack, report)
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


def create_table(client: DynamoDBClient, name: str, stack: Stack | None = None) -> bool:
    """Creates table ``name`` as the template's ``ShareTable``: keys, billing, encryption, TTL, PITR;
    ``False`` if a table of that name is already there (left as it is).

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
            return False
        raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    if ttl := properties.get("TimeToLiveSpecification"):
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    if recovery := properties.get("PointInTimeRecoverySpecification"):
        client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=recovery)
    return True


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


def _ensure_queue(sqs: SQSClient, request: dict[str, Any], report: Report) -> str:
    """Creates the queue; one of that name with other attributes gets the request's attributes."""
    try:
        return sqs.create_queue(**request)["QueueUrl"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in QUEUE_EXISTS_CODES:
            raise
    url = sqs.get_queue_url(QueueName=request["QueueName"])["QueueUrl"]
    wanted: dict[str, str] = request["Attributes"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    current = {str(name): value for name, value in attributes.items()}
    changed = {
        name: value for name, value in wanted.items() if _comparable(current.get(name)) != _comparable(value)
    }
    if changed:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)  # type: ignore[arg-type]
    for name, value in changed.items():
        report(f"queue {request['QueueName']}: {name} {current.get(name)} -> {value}")
    return url


def _reconcile_table(client: DynamoDBClient, stack: Stack, report: Report) -> None:
    """The stack's table exists: refuses other keys (DynamoDB cannot change them), turns on the TTL the
    template gives if it is off, and refuses a TTL on another attribute (DynamoDB allows one, and
    moving it means turning it off for up to an hour first)."""
    name = stack.table_name()
    wanted = stack.properties(TABLE_ID, "KeySchema", "AttributeDefinitions", "TimeToLiveSpecification")
    found = client.describe_table(TableName=name)["Table"]
    if _keys(found["KeySchema"], found["AttributeDefinitions"]) != _keys(
        wanted["KeySchema"], wanted["AttributeDefinitions"]
    ):
        raise MismatchedTable(
            f"table {name!r} exists with the keys {_keys(found['KeySchema'], found['AttributeDefinitions'])} "
            f"and the template's are {_keys(wanted['KeySchema'], wanted['AttributeDefinitions'])}: DynamoDB "
            "cannot change a table's keys; delete the table (its items go with it) or use another --stack"
        )
    ttl = wanted.get("TimeToLiveSpecification")
    if not ttl or not ttl.get("Enabled"):
        return
    current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        if current.get("AttributeName") != ttl["AttributeName"]:
            raise MismatchedTable(
                f"table {name!r} has TTL on {current.get('AttributeName')} and the template puts it on "
                f"{ttl['AttributeName']}: a table has one TTL attribute; turn it off first (DynamoDB then "
                "waits up to an hour before it can be turned on again)"
            )
        return
    client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    was = current.get("TimeToLiveStatus", "DISABLED")
    report(f"table {name}: TTL {was} -> enabled on {ttl['AttributeName']}")


def _keys(schema: Iterable[Mapping[str, Any]], definitions: Iterable[Mapping[str, Any]]) -> list[str]:
    """A key schema in words: ``PK (S, HASH)``..."""
    types = {definition["AttributeName"]: definition["AttributeType"] for definition in definitions}
    return [f"{key['AttributeName']} ({types.get(key['AttributeName'])}, {key['KeyType']})" for key in schema]


def _comparable(text: str | None) -> Any:
    """An attribute's value for comparison: SQS may give JSON back with other spacing or a number as text."""
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        return text
    return {name: str(member) for name, member in value.items()} if isinstance(value, dict) else str(value)


def _queue_arn(sqs: SQSClient, queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
