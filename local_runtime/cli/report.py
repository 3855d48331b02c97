"""Plain-text output for the demo and the command line: tables and progress lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(header) for header in headers]] + [[_text(value) for value in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


@contextmanager
def echoed_logs(logger_names: Sequence[str], stream: TextIO, line_format: str) -> Iterator[None]:
    """Within the block, show these loggers' INFO lines on ``stream``, without touching the root logger.

    Configuring the root logger would also print the worker's own records: Powertools only keeps
    its records off root handlers that exist when its logger is created.
    """
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(line_format))
    loggers = [logging.getLogger(name) for name in logger_names]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
