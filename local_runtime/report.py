"""Plain-text output for the demo and the command line: tables and progress lines."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TextIO


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(header) for header in headers]] + [[_text(value) for value in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


ECHO_HANDLER = "local-runtime-echo"


def echo_log(logger_name: str, stream: TextIO, line_format: str) -> None:
    """Show one logger's INFO lines on ``stream``, without configuring the root logger.

    Configuring the root logger would also print the worker's own records: Powertools only keeps
    its records off root handlers that exist when its logger is created. Calling it again replaces
    the earlier handler.
    """
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(line_format))
    handler.set_name(ECHO_HANDLER)
    logger = logging.getLogger(logger_name)
    for previous in [existing for existing in logger.handlers if existing.get_name() == ECHO_HANDLER]:
        logger.removeHandler(previous)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
