"""Fixtures shared by every test folder: the embedded AWS server and a fresh table per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws, embedded_aws
from local_runtime.stack.provision import create_table, item_record
from services.bootstrap import Worker, build_worker
from services.config import Settings
from services.keys import item_key
from services.telemetry import metrics
from testkit.reliability import scan_all

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Wdrbe")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ShareWorker")
# jsii (the CDK's bridge to Node.js) warns at every start that Node 20 is past its end of life;
# the README says so once (Deploy into an existing app).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(autouse=True)
def _no_metrics_left_over() -> Iterator[None]:
    """Powertools' metrics live in a process-wide store until flushed: a test that runs the processor
    without the handler's ``log_metrics`` would leave its metrics to the next test's flush."""
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture(scope="session")
def aws() -> Iterator[EmbeddedAws]:
    """moto's server on 127.0.0.1; boto3 in the test process points at it for the whole session."""
    with embedded_aws() as server:
        yield server


class ShareTable:
    """A fresh table on the embedded server, with helpers to seed items and read state back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.resource = boto3.resource("dynamodb")
        self.table = self.resource.Table(name)

    def put_item(
        self,
        item_id: str,
        *,
        owner: str | None = "user123",
        public: bool = False,
        count: int = 0,
        name: str = "",
    ) -> None:
        self.table.put_item(
            Item=item_record(
                {
                    "itemId": item_id,
                    "name": name or f"Item {item_id}",
                    "ownerId": owner,
                    "isPublic": public,
                    "sharedCount": count,
                }
            )
        )

    def item(self, item_id: str) -> dict[str, Any] | None:
        return self.table.get_item(Key=item_key(item_id), ConsistentRead=True).get("Item")

    def all_records(self) -> list[dict[str, Any]]:
        return scan_all(self.table)

    def records_with_prefix(self, prefix: str) -> list[dict[str, Any]]:
        return [record for record in self.all_records() if str(record["PK"]).startswith(prefix)]


@pytest.fixture
def share_table(aws: EmbeddedAws) -> ShareTable:
    name = f"share-test-{uuid.uuid4().hex[:12]}"
    create_table(boto3.client("dynamodb"), name)
    return ShareTable(name)


@pytest.fixture
def worker(share_table: ShareTable) -> Worker:
    return build_worker(Settings(table_name=share_table.name))


@pytest.fixture
def handler_module(share_table: ShareTable, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``handler`` configured for this test's table, with its cached worker rebuilt."""
    import handler

    monkeypatch.setenv("TABLE_NAME", share_table.name)
    handler.worker.cache_clear()
    yield handler
    handler.worker.cache_clear()


@pytest.fixture
def sam_transform(monkeypatch: pytest.MonkeyPatch) -> Any:
    """:func:`tests.cloudformation.sam_transformed`, with the region ``sam`` would have."""
    from tests.cloudformation import sam_transformed

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return sam_transformed
