"""Error types of the worker.

Two families matter to SQS: a permanent error (the message itself is wrong, retrying cannot
help, it goes to the DLQ after ``maxReceiveCount``) and a retryable one (DynamoDB or the network
failed; a later delivery may succeed).
"""


class ShareWorkerError(Exception):
    """Base class of every error the worker raises on purpose."""


class ConfigurationError(ShareWorkerError):
    """The function's environment is incomplete or malformed."""


class InvalidShareEvent(ShareWorkerError):
    """The message body breaks the message contract; permanent."""


class RetryableProcessingError(ShareWorkerError):
    """A transient failure (throttling, conflict, network); the record is retried."""


class Throttled(RetryableProcessingError):
    """DynamoDB refused a request for throughput after the SDK's own retries; worth another try later."""


class RequestRejected(RetryableProcessingError):
    """DynamoDB refused the request itself (a record too large, say): sending it again as is cannot help."""


class ContentionExhausted(RetryableProcessingError):
    """A transaction kept being cancelled for conflicts or throttling until the time budget ran out."""


class UnexpectedError(RetryableProcessingError):
    """An exception the worker did not expect (a bug): the record is retried, and its traceback logged."""

    @classmethod
    def wrapping(cls, error: BaseException) -> RetryableProcessingError:
        """``error`` if it is already one of the worker's retryable errors, else one wrapping it."""
        if isinstance(error, RetryableProcessingError):
            return error
        wrapped = cls(f"unexpected error: {type(error).__name__}: {error}")
        wrapped.__cause__ = error
        return wrapped


class DeadlineApproaching(RetryableProcessingError):
    """Too little invocation time was left to start the record's writes; it is left for a retry."""

    def __init__(self, message: str, remaining_ms: int | None = None) -> None:
        super().__init__(message)
        self.remaining_ms = remaining_ms


class SkippedAfterGroupFailure(RetryableProcessingError):
    """FIFO: an earlier record of the same message group failed, so this one was not attempted."""


class UnreportableFailure(ShareWorkerError):
    """A failed record has no ``messageId``, so SQS cannot be told which one to retry."""
