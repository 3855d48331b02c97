"""Reads what the worker logs and the metrics it emits, from the output of local invocations.

Execution environments (:mod:`local_runtime.lambda_service.execution_environment`) write their
handler's output, one JSON object a line, to this process's standard output after each invocation:
EMF blobs are metrics, other JSON objects are log records. :func:`captured_telemetry` keeps all of
them for a report (``make run``); :class:`TelemetryStream` reads them as they come, keeping only the
metric totals, for a worker loop that runs for as long as it is left running (``share-worker run``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from services.telemetry import NAMESPACE, SERVICE


@dataclass
class Captured:
    logs: list[dict[str, Any]] = field(default_factory=list)
    metrics: Counter[str] = field(default_factory=Counter)


@contextlib.contextmanager
def captured_telemetry() -> Iterator[Captured]:
    """Redirects the Powertools log stream and stdout into ``Captured`` for the block."""
    result = Captured()
    log_buffer, stdout_buffer = io.StringIO(), io.StringIO()
    handlers = [h for h in logging.getLogger(SERVICE).handlers if isinstance(h, logging.StreamHandler)]
    previous = [handler.setStream(log_buffer) for handler in handlers]
    try:
        with contextlib.redirect_stdout(stdout_buffer):
            yield result
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)
        result.logs.extend(_json_lines(log_buffer.getvalue()))
        for blob in _json_lines(stdout_buffer.getvalue()):
            if record := log_record(blob, result.metrics):
                result.logs.append(record)


class TelemetryStream(io.TextIOBase):
    """A stand-in for standard output that counts the metrics of every EMF line written to it and
    writes every line on to ``echo`` (as it came: log records and EMF blobs), or drops them.

    Invocations end on threads of their own, hence the lock; a line is read once it is complete. The
    echo is written from within an invocation's handling: once it fails (``run --logs | head -1``
    closed the pipe), echoing stops and the metrics are still counted; an error there would fail the
    batch, and every later one, and send good messages to the DLQ.
    """

    def __init__(self, echo: TextIO | None) -> None:
        super().__init__()
        self.metrics: Counter[str] = Counter()
        self._echo = echo
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
            for line in lines:
                self._read(line)
            if lines:
                self.flush()  # as they come: a pipe's buffer would hold them back
        return len(text)

    def flush(self) -> None:
        if self._echo:
            try:
                self._echo.flush()
            except OSError:
                self._echo = None

    @contextlib.contextmanager
    def as_stdout(self) -> Iterator[TelemetryStream]:
        """Standard output is this stream within the block."""
        with contextlib.redirect_stdout(self):
            yield self
        with self._lock:
            if self._partial:
                self._read(self._partial)
                self._partial = ""
        self.flush()

    def _read(self, line: str) -> None:
        for blob in _json_lines(line):
            log_record(blob, self.metrics)
        if self._echo:
            try:
                self._echo.write(line + "\n")
            except OSError:
                self._echo = None


def log_record(blob: dict[str, Any], metrics: Counter[str]) -> dict[str, Any] | None:
    """``None`` for an EMF blob, whose metrics of the worker's namespace are added to ``metrics``;
    any other JSON object is a log record, returned as it is."""
    if "_aws" not in blob:
        return blob
    for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
        if directive.get("Namespace") != NAMESPACE:
            continue
        for metric in directive.get("Metrics", []):
            value = blob.get(metric["Name"], 0)
            metrics[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
    return None


def _json_lines(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                yield value
