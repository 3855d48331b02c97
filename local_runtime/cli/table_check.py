"""Does a table have what the worker needs? ``share-worker check-table`` for the app's existing table.

What the worker needs is read from the template's own table (``ShareTable``): its key schema, its
attribute types and its TTL attribute. A table the stack creates has them by construction; the
app's table, named with ``ExistingTableName``, has them only if the app's stack gave them, and
CloudFormation cannot switch TTL on for a table another stack owns.

Each unmet requirement comes with what it means and what to do, which depends on what the table has
instead: DynamoDB allows one TTL attribute per table, so TTL on another attribute cannot simply be
switched on for ``ExpiresAt`` as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from local_runtime.stack.provision import missing_table_reason
from local_runtime.stack.template import TABLE_ID, Stack

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TYPE_NAMES = {"S": "string", "N": "number", "B": "binary"}
KEY_ROLES = {"HASH": "partition key", "RANGE": "sort key"}
TTL_ON = {"ENABLED", "ENABLING"}
KEYS_CANNOT_CHANGE = (
    "The worker keys its items, feed entries and dedup markers by these attributes, and a table's "
    "keys cannot change: name a table that has them."
)


@dataclass(frozen=True)
class Finding:
    requirement: str
    met: bool
    found: str
    advice: str = ""
    """What the unmet requirement means and what to do about it."""


def check_table(client: DynamoDBClient, stack: Stack) -> list[Finding]:
    """One finding per key of the template's table and one for its TTL; a missing table is one finding."""
    table_name = stack.table_name()
    try:
        table = client.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        return [
            Finding(
                f"table {table_name}",
                False,
                "no such table for this endpoint, account and region",
                missing_table_reason(stack),
            )
        ]
    needed = stack.properties(TABLE_ID, "KeySchema", "AttributeDefinitions", "TimeToLiveSpecification")
    findings = _key_findings(needed, table)
    ttl = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    findings.append(_ttl_finding(table_name, needed["TimeToLiveSpecification"]["AttributeName"], ttl))
    return findings


def advice(findings: Sequence[Finding]) -> list[str]:
    """What to do about each unmet requirement, in plain words."""
    lines = [finding.advice for finding in findings if not finding.met]
    if any(
        not finding.met and finding.requirement.startswith(tuple(KEY_ROLES.values())) for finding in findings
    ):
        lines.append(KEYS_CANNOT_CHANGE)
    return lines


def _key_findings(needed: Mapping[str, Any], table: Mapping[str, Any]) -> list[Finding]:
    needed_types = _types(needed["AttributeDefinitions"])
    types = _types(table.get("AttributeDefinitions", []))
    keys = {key["KeyType"]: key["AttributeName"] for key in table["KeySchema"]}
    findings = []
    for key in needed["KeySchema"]:
        role, name = KEY_ROLES[key["KeyType"]], key["AttributeName"]
        requirement = f"{role} {name} ({needed_types[name]})"
        actual = keys.get(key["KeyType"])
        if actual is None:
            findings.append(Finding(requirement, False, f"no {role}", f"The table has no {role}."))
            continue
        found = f"{actual} ({types.get(actual, '?')})"
        if actual != name:
            advice = f"The table's {role} is {found}, not {name}."
        else:
            advice = f"The table's {role} {name} is a {types.get(name, '?')}, not a {needed_types[name]}."
        met = actual == name and types.get(name) == needed_types[name]
        findings.append(Finding(requirement, met, found, "" if met else advice))
    return findings


def _ttl_finding(table_name: str, attribute: str, ttl: Mapping[str, Any]) -> Finding:
    status = str(ttl.get("TimeToLiveStatus", "DISABLED"))
    on_attribute = ttl.get("AttributeName") if status in TTL_ON else None
    requirement = f"TTL on {attribute}"
    if on_attribute == attribute:
        return Finding(requirement, True, f"TTL {status.lower()} on {attribute}")
    if on_attribute is not None:
        return Finding(
            requirement,
            False,
            f"TTL {status.lower()} on {on_attribute}",
            f"TTL is on {on_attribute}, and a table has one TTL attribute: DynamoDB refuses to enable it on "
            f"{attribute} as well, and moving it to {attribute} would stop the app's own items expiring. "
            f"The worker writes the expiry of its dedup markers in {attribute}, so on this table they never "
            f"expire: the worker still runs, but the markers stay and are billed forever. Either accept "
            f"that, or have the app write its expiry in {attribute} too and then move the table's TTL to "
            f"{attribute}.",
        )
    return Finding(
        requirement,
        False,
        f"TTL {status.lower()}",
        f"TTL is not on {attribute}: the worker still runs, but its dedup markers are never deleted. "
        f"Turn it on in the app's stack (CDK: time_to_live_attribute='{attribute}') or once with "
        f"`aws dynamodb update-time-to-live --table-name {table_name} "
        f"--time-to-live-specification Enabled=true,AttributeName={attribute}`.",
    )


def _types(definitions: Sequence[Mapping[str, object]]) -> dict[str, str]:
    return {
        str(definition["AttributeName"]): TYPE_NAMES.get(str(definition["AttributeType"]), "?")
        for definition in definitions
    }
