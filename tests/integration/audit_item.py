"""One item, ``item-x``, its shares applied through the handler as the running worker would, and the
audit run in this process on it: what the audit's race and odd-record tests share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from local_runtime.audit.audit import AuditRequest, AuditResult, audit
from services.dynamodb_service import DynamoDBService
from testkit.client_hooks import operation_of
from tests.conftest import ShareTable

ITEM = "item-x"


def once_before(operation: str, action: Callable[[], None]) -> Callable[..., None]:
    """A ``before-send`` hook that runs ``action`` before the first ``operation`` request only."""
    done: list[bool] = []

    def hook(event_name: str, **_: Any) -> None:
        if operation_of(event_name) == operation and not done:
            done.append(True)
            action()

    return hook


def run_audit(service: DynamoDBService, client: Any = None, **request: Any) -> AuditResult:
    return audit(service, client or boto3.client("dynamodb"), AuditRequest(**request), no_progress)


def no_progress(description: str) -> Callable[[int], None]:
    return lambda records: None


def set_count(share_table: ShareTable, value: Any) -> None:
    share_table.table.update_item(
        Key={"PK": f"ITEM#{ITEM}", "SK": "METADATA"}, UpdateExpression="SET SharedCount = :value",
        ExpressionAttributeValues={":value": value},
    )  # fmt: skip


def ledger_of(share_table: ShareTable) -> int:
    return len(share_table.records_with_prefix("USER#"))


def count_of(share_table: ShareTable) -> Any:
    return (share_table.item(ITEM) or {}).get("SharedCount")
