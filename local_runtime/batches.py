"""Splitting work into SQS-sized batches (``itertools.batched`` needs Python 3.12; 3.11 is supported)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

SQS_MAX_BATCH = 10
"""The most entries one SendMessageBatch, DeleteMessageBatch or ReceiveMessage call takes or returns."""

T = TypeVar("T")


def chunked(items: Iterable[T], size: int = SQS_MAX_BATCH) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
