"""What ``share-worker run`` and ``share-worker invoke`` print at the end: the poller's counts, each
outcome's count from the worker's own EMF metrics, and what is now in the DLQ."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from local_runtime.cli.report import table
from local_runtime.lambda_service.poller import PollerStats
from services.outcomes import RECORD_METRICS, REUSED_EVENT_IDS_METRIC

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

DLQ_COUNTS: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
)
"""A message being read (by `dlq inspect`, say) is not visible for a while, and still in the DLQ."""


def outcome_table(metrics: Counter[str]) -> str:
    """One row per metric a record is counted under, zeros included, so every outcome shows."""
    rows = [[name, metrics[name]] for name in RECORD_METRICS]
    note = f"({REUSED_EVENT_IDS_METRIC} are among the DuplicateEvents: their eventId named another share)"
    return f"{table(['outcome (EMF metric)', 'deliveries'], rows)}\n{note}"


def dlq_messages(sqs: SQSClient, dlq_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=list(DLQ_COUNTS))["Attributes"]
    return sum(int(attributes.get(name) or 0) for name in DLQ_COUNTS)


def run_summary(
    stats: PollerStats, environments: int, metrics: Counter[str], dlq: tuple[int, int], inspect_command: str
) -> str:
    """``dlq`` is the DLQ's message count when the run started and now."""
    before, now = dlq
    return "\n".join(
        [
            f"batches {stats.batches}, received {stats.received}, deleted {stats.deleted}, "
            f"left for retry {stats.failed_records}, failed invocations {stats.failed_invocations}, "
            f"execution environments {environments}",
            "",
            outcome_table(metrics),
            "",
            f"dead-letter queue: {now} message(s) ({now - before:+d} during this run); "
            f"`{inspect_command}` shows them",
        ]
    )
