"""Captures what the worker logs and the metrics it emits during one local invocation."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from services.telemetry import NAMESPACE, SERVICE


@dataclass
class Captured:
    logs: list[dict[str, Any]] = field(default_factory=list)
    metrics: Counter[str] = field(default_factory=Counter)


@contextlib.contextmanager
def captured_telemetry() -> Iterator[Captured]:
    """Redirects the Powertools log stream and stdout into ``Captured`` for the block.

    On stdout, EMF blobs are metrics and other JSON objects are log records: what execution
    environments (:mod:`local_runtime.lambda_service.execution_environment`) forward from their handler.
    """
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
            if "_aws" in blob:
                _add_emf(result.metrics, blob)
            else:
                result.logs.append(blob)


def _json_lines(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                yield value


def _add_emf(totals: Counter[str], blob: dict[str, Any]) -> None:
    for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
        if directive.get("Namespace") != NAMESPACE:
            continue
        for metric in directive.get("Metrics", []):
            value = blob.get(metric["Name"], 0)
            totals[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
