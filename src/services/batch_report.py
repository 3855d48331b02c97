"""Logging and counting a finished batch's records, within the time the invocation has left.

Every record is counted (metrics, and the trace's annotations). Each is also logged on a line of its
own while time allows (:meth:`Deadline.allows_logging`); past that point the rest are only counted,
and one summary line says how many were not logged and names the first failed ones. Tracebacks are
written for unexpected errors only (a bug, not DynamoDB saying no: that error's text says it all),
and for the first few of a batch: formatting a deep botocore traceback costs milliseconds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.deadline import Deadline
from services.errors import UnexpectedError
from services.telemetry import logger

TRACEBACKS_PER_BATCH = 3
FAILED_IDS_SHOWN = 20
QUIET_LOG = "Records counted but not logged one by one: too little invocation time was left"


class BatchReport:
    def __init__(self, deadline: Deadline, records: int) -> None:
        self._deadline = deadline
        self._left = records
        self._logging = True
        self._tracebacks_left = TRACEBACKS_PER_BATCH
        self.counted: Counter[str] = Counter()
        self._unlogged = 0
        self._unlogged_failures: list[str] = []

    def next_record(self, result: object) -> tuple[bool, bool]:
        """Whether the next record (ending with ``result``) gets its own log line, and a traceback."""
        if self._logging and not self._deadline.allows_logging(self._left):
            self._logging = False
        self._left -= 1
        traceback = self._logging and isinstance(result, UnexpectedError) and self._tracebacks_left > 0
        self._tracebacks_left -= traceback
        return self._logging, traceback

    def not_logged(self, message_id: str | None, failed: bool) -> None:
        self._unlogged += 1
        if failed and message_id and len(self._unlogged_failures) < FAILED_IDS_SHOWN:
            self._unlogged_failures.append(message_id)

    def summarise(self) -> None:
        """One line for the records that were only counted, if any."""
        if self._unlogged:
            details: dict[str, Any] = {
                "not_logged": self._unlogged,
                "first_failed_message_ids": self._unlogged_failures,
                "remaining_ms": self._deadline.remaining_ms(),
            }
            logger.warning(QUIET_LOG, extra={**details, "counts": dict(self.counted)})
