"""Composition root: builds the worker from the environment, with every dependency overridable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from services.activity_service import ActivityService
from services.batch_processor import ShareBatchProcessor
from services.config import Settings
from services.deadline import check_budget, guard_client
from services.dynamodb_service import DynamoDBService
from services.record_handler import ShareRecordHandler
from services.share_service import ShareService

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource

CONNECTION_POOL_SIZE = 16

CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 3.0

RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=READ_TIMEOUT_S,
    max_pool_connections=CONNECTION_POOL_SIZE,
)
"""The one place SDK retries and timeouts are set, sized for the time budget (``services.deadline``).

Standard mode retries throttling, 5xx, connection errors and timeouts with jittered backoff, three
attempts in all (``total_max_attempts`` counts the first one; a retried ``TransactWriteItems`` keeps
its ``ClientRequestToken``, so DynamoDB applies it once). An attempt that waits 1 s to connect or 3 s
for a byte of the answer is abandoned: DynamoDB answers in milliseconds (a 100-action transaction in
well under a second), so a wait that long is a broken connection, better retried. One attempt so
lasts at most 4 s, unless the server trickles its answer (the read timeout bounds each wait for
bytes, not the whole answer). No attempt starts with less than ``DEADLINE_MARGIN_MS`` (4.5 s) left,
so an attempt normally ends with time left to answer SQS; :func:`build_worker` refuses a margin for
which that is not true, and the batch processor's cutoff answers SQS in time even when an attempt
does not end. The pool allows every parallel lane its own connection.
"""


@dataclass(frozen=True)
class Worker:
    processor: ShareBatchProcessor
    share_service: ShareService
    activity_service: ActivityService


def dynamodb_resource(
    session: boto3.session.Session | None = None, max_parallel: int = 0
) -> DynamoDBServiceResource:
    """Region, credentials and ``AWS_ENDPOINT_URL`` come from the standard boto3 configuration.

    The connection pool is never smaller than ``max_parallel``, the records in flight at once, so
    a raised ``MAX_PARALLEL_RECORDS`` does not make records queue for, or discard, connections.
    """
    pool = max(CONNECTION_POOL_SIZE, max_parallel)
    config = RETRY_CONFIG.merge(Config(max_pool_connections=pool))
    return (session or boto3.session.Session()).resource("dynamodb", config=config)


def build_worker(
    settings: Settings | None = None,
    resource: DynamoDBServiceResource | None = None,
    environ: Mapping[str, str] | None = None,
) -> Worker:
    settings = settings or (Settings.from_env(environ) if environ is not None else Settings.from_env())
    check_budget(settings.deadline_margin_ms, CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
    table = (resource or dynamodb_resource(max_parallel=settings.max_parallel_records)).Table(
        settings.table_name
    )
    guard_client(table.meta.client)
    dynamodb_service = DynamoDBService(settings.table_name, table=table)
    activity_service = ActivityService(dynamodb_service)
    share_service = ShareService(
        dynamodb_service, activity_service, dedup_ttl=timedelta(days=settings.dedup_ttl_days)
    )
    processor = ShareBatchProcessor(
        share_service,
        ShareRecordHandler(),
        max_parallel=settings.max_parallel_records,
        deadline_margin_ms=settings.deadline_margin_ms,
    )
    return Worker(processor=processor, share_service=share_service, activity_service=activity_service)
