"""The ways one share event can end, and the metric each one is counted under."""

from enum import Enum


class Outcome(Enum):
    """Successful outcomes of a record: the message is deleted from the queue in every case."""

    APPLIED = "ShareEventsProcessed"
    DUPLICATE = "DuplicateEvents"
    ITEM_NOT_FOUND = "ItemNotFound"
    UNAUTHORIZED = "UnauthorizedShares"

    @property
    def metric_name(self) -> str:
        return self.value


VALIDATION_ERRORS_METRIC = "ValidationErrors"
PROCESSING_ERRORS_METRIC = "ProcessingErrors"
BATCH_SIZE_METRIC = "BatchSize"
SUCCESSFUL_RECORDS_METRIC = "SuccessfulRecords"
FAILED_RECORDS_METRIC = "FailedRecords"
