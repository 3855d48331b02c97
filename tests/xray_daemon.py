"""A stand-in X-Ray daemon on 127.0.0.1: the UDP socket the X-Ray SDK sends its segment documents to.

Each datagram is a JSON header line (``{"format": "json", "version": 1}``) and one segment or
subsegment document. In Lambda the SDK streams subsegments: each closed subtree goes out as a
document of its own, with ``parent_id`` naming the entity it belongs under.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

HEADER = {"format": "json", "version": 1}


@dataclass(frozen=True)
class TraceEntity:
    """One segment or subsegment, with the id of the entity it sits under (``None`` at the top)."""

    document: dict[str, Any]
    parent_id: str | None

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def name(self) -> str:
        return str(self.document["name"])

    @property
    def annotations(self) -> dict[str, Any]:
        return dict(self.document.get("annotations", {}))


@dataclass
class XRayDaemon:
    received: list[dict[str, Any]] = field(default_factory=list)
    _socket: socket.socket = field(default_factory=lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def __enter__(self) -> Self:
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._reader.join()
        self._socket.close()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                datagram = self._socket.recv(65_535)
            except TimeoutError:
                continue
            header, _, body = datagram.decode().partition("\n")
            assert json.loads(header) == HEADER, header
            self.received.append(json.loads(body))

    def entities(self) -> list[TraceEntity]:
        """Every entity received, nested ones included, each with its parent's id."""
        return [entity for document in self.received for entity in _flattened(document, None)]


def _flattened(document: dict[str, Any], parent_id: str | None) -> Iterator[TraceEntity]:
    yield TraceEntity(document, document.get("parent_id", parent_id))
    for child in document.get("subsegments", []):
        yield from _flattened(child, str(document["id"]))
