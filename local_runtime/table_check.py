"""Does a table have what the worker needs? ``share-worker check-table`` for the app's existing table.

What the worker needs is read from the template's own table (``ShareTable``): its key schema, its
attribute types and its TTL attribute. A table the stack creates has them by construction; the
app's table, named with ``ExistingTableName``, has them only if the app's stack gave them, and
CloudFormation cannot switch TTL on for a table another stack owns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from local_runtime.template import TABLE_ID, Stack

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TYPE_NAMES = {"S": "string", "N": "number", "B": "binary"}
KEY_ROLES = {"HASH": "partition key", "RANGE": "sort key"}
TTL_ON = {"ENABLED", "ENABLING"}


@dataclass(frozen=True)
class Finding:
    requirement: str
    met: bool
    found: str


def check_table(client: DynamoDBClient, table_name: str, stack: Stack) -> list[Finding]:
    """One finding per key of the template's table and one for its TTL; a missing table is one finding."""
    try:
        table = client.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        return [Finding(f"table {table_name}", False, "no such table for this endpoint, account and region")]
    needed = stack.properties(TABLE_ID, "KeySchema", "AttributeDefinitions", "TimeToLiveSpecification")
    needed_types = _types(needed["AttributeDefinitions"])
    types = _types(table.get("AttributeDefinitions", []))
    keys = {key["KeyType"]: key["AttributeName"] for key in table["KeySchema"]}
    findings = []
    for key in needed["KeySchema"]:
        role, name = KEY_ROLES[key["KeyType"]], key["AttributeName"]
        actual = keys.get(key["KeyType"])
        found = f"{actual} ({types.get(actual, '?')})" if actual else f"no {role}"
        met = actual == name and types.get(name) == needed_types[name]
        findings.append(Finding(f"{role} {name} ({needed_types[name]})", met, found))
    ttl_attribute = needed["TimeToLiveSpecification"]["AttributeName"]
    ttl = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    status = ttl.get("TimeToLiveStatus", "DISABLED")
    on = status in TTL_ON
    findings.append(
        Finding(
            f"TTL on {ttl_attribute}",
            on and ttl.get("AttributeName") == ttl_attribute,
            f"TTL {status.lower()} on {ttl['AttributeName']}" if on else f"TTL {status.lower()}",
        )
    )
    return findings


def advice(table_name: str, findings: list[Finding]) -> list[str]:
    """What to do about each unmet requirement, in plain words."""
    lines = []
    for finding in findings:
        if finding.met:
            continue
        if finding.requirement.startswith("table "):
            lines.append(
                f"{table_name} does not exist: the app's stack creates it; check the name and region."
            )
        elif finding.requirement.startswith("TTL"):
            attribute = finding.requirement.removeprefix("TTL on ")
            lines.append(
                f"TTL is not on {attribute}: the worker still runs, but its dedup markers are never deleted. "
                f"Turn it on in the app's stack (CDK: time_to_live_attribute='{attribute}') or once with "
                f"`aws dynamodb update-time-to-live --table-name {table_name} "
                f"--time-to-live-specification Enabled=true,AttributeName={attribute}`."
            )
        else:
            lines.append(f"{finding.requirement} is missing: the table has {finding.found}.")
    if any(
        not finding.met and finding.requirement.startswith(tuple(KEY_ROLES.values())) for finding in findings
    ):
        lines.append(
            "The worker keys its items, feed entries and dedup markers by these attributes, and a table's "
            "keys cannot change: name a table that has them."
        )
    return lines


def _types(definitions: Sequence[Mapping[str, object]]) -> dict[str, str]:
    return {
        str(definition["AttributeName"]): TYPE_NAMES.get(str(definition["AttributeType"]), "?")
        for definition in definitions
    }
