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


class DeadlineApproaching(RetryableProcessingError):
    """Too little invocation time was left to start the record; it is left untouched for a retry."""


class UnreportableFailure(ShareWorkerError):
    """A failed record has no ``messageId``, so SQS cannot be told which one to retry."""
