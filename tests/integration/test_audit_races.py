"""The audit's confirmation and conditional repair when a share lands at the worst moment, made
deterministic with a botocore hook on the audit's own client (the share goes through the handler,
on a client of its own): see :mod:`local_runtime.audit.confirmation` for the argument."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from local_runtime.audit.audit import AuditRequest, AuditResult, audit
from local_runtime.audit.repair import Outcome
from services.dynamodb_service import DynamoDBService
from testkit.client_hooks import before_send, counting_requests, operation_of
from tests.conftest import ShareTable
from tests.factories import share_body, sqs_event, sqs_record

pytestmark = pytest.mark.integration

ITEM = "item-x"


@pytest.fixture
def shares(share_table: ShareTable, handler_module: Any) -> Callable[[int], None]:
    """Applies ``n`` new shares of :data:`ITEM` through the handler, as the running worker would."""
    share_table.put_item(ITEM, public=True)

    def share(n: int) -> None:
        records = [sqs_record(share_body(ITEM, f"u{index}"), f"m-{index}") for index in range(n)]
        assert handler_module.lambda_handler(sqs_event(*records), None) == {"batchItemFailures": []}

    return share


def once_before(operation: str, action: Callable[[], None]) -> Callable[..., None]:
    """A ``before-send`` hook that runs ``action`` before the first ``operation`` request only."""
    done: list[bool] = []

    def hook(event_name: str, **_: Any) -> None:
        if operation_of(event_name) == operation and not done:
            done.append(True)
            action()

    return hook


def run_audit(service: DynamoDBService, client: Any = None, **request: Any) -> AuditResult:
    return audit(service, client or boto3.client("dynamodb"), AuditRequest(**request), lambda records: None)


def ledger_of(share_table: ShareTable) -> int:
    return len(share_table.records_with_prefix("USER#"))


def count_of(share_table: ShareTable) -> Any:
    return (share_table.item(ITEM) or {}).get("SharedCount")


def test_a_share_landing_before_the_conditional_write_is_kept_and_left_for_the_next_run(
    share_table: ShareTable, shares: Callable[[int], None]
) -> None:
    shares(3)
    share_table.table.update_item(
        Key={"PK": f"ITEM#{ITEM}", "SK": "METADATA"}, UpdateExpression="SET SharedCount = :five",
        ExpressionAttributeValues={":five": 5},
    )  # fmt: skip
    service = DynamoDBService(share_table.name)

    with before_send(service.table.meta.client, once_before("UpdateItem", lambda: shares(1))):
        first = run_audit(service, repair=True)

    assert [(row.finding.shared_count, row.finding.ledger_count, row.outcome) for row in first.rows] == [
        (5, 3, Outcome.CHANGED_DURING_REPAIR)
    ]
    assert count_of(share_table) == 6  # the share that landed is not overwritten
    second = run_audit(service, repair=True)
    assert [(row.finding.shared_count, row.outcome) for row in second.rows] == [(6, Outcome.REPAIRED)]
    assert count_of(share_table) == ledger_of(share_table) == 4


def test_a_share_landing_while_the_ledger_is_counted_is_neither_drift_nor_written(
    share_table: ShareTable, shares: Callable[[int], None]
) -> None:
    """The count seen (3) is read before the ledger scan, which then sees the new share's entry (4):
    the item changed in between, so it is confirmed again (4 and 4), not taken for drift."""
    shares(3)
    service = DynamoDBService(share_table.name)
    client = boto3.client("dynamodb")

    with (
        before_send(client, once_before("Scan", lambda: shares(1))),
        counting_requests(service.table.meta.client) as requests,
    ):
        result = run_audit(service, client, item_ids=[ITEM], repair=True)

    assert result.rows == []
    assert requests.by_operation["UpdateItem"] == 0
    assert count_of(share_table) == ledger_of(share_table) == 4
