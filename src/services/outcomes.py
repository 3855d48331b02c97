"""The ways one share event can end, and the metric each one is counted under."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Outcome(Enum):
    """Successful outcomes of a record: the message is deleted from the queue in every case."""

    APPLIED = "ShareEventsProcessed"
    DUPLICATE = "DuplicateEvents"
    ITEM_NOT_FOUND = "ItemNotFound"
    UNAUTHORIZED = "UnauthorizedShares"

    @property
    def metric_name(self) -> str:
        return self.value


@dataclass(frozen=True)
class Settlement:
    """How a record ended; for a duplicate whose eventId first named another item or user, what it named."""

    outcome: Outcome
    reused_from: Mapping[str, Any] | None = None
    """``{"ItemId": ..., "UserId": ...}`` of the earlier event, when its eventId was reused (producer bug)."""


APPLIED = Settlement(Outcome.APPLIED)
DUPLICATE = Settlement(Outcome.DUPLICATE)
ITEM_NOT_FOUND = Settlement(Outcome.ITEM_NOT_FOUND)
UNAUTHORIZED = Settlement(Outcome.UNAUTHORIZED)

VALIDATION_ERRORS_METRIC = "ValidationErrors"
PROCESSING_ERRORS_METRIC = "ProcessingErrors"
REUSED_EVENT_IDS_METRIC = "ReusedEventIds"
TRANSACTION_RETRIES_METRIC = "TransactionRetries"
BATCH_SIZE_METRIC = "BatchSize"
SUCCESSFUL_RECORDS_METRIC = "SuccessfulRecords"
FAILED_RECORDS_METRIC = "FailedRecords"

RECORD_METRICS = (
    *(outcome.metric_name for outcome in Outcome),
    REUSED_EVENT_IDS_METRIC,
    VALIDATION_ERRORS_METRIC,
    PROCESSING_ERRORS_METRIC,
)
"""The metrics a record is counted under (one or two of them: a reused eventId is also a duplicate)."""
