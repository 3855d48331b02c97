"""Empty message bodies refused by the embedded moto server, as SQS refuses them.

moto 5.2.5 accepts ``SendMessage`` with ``MessageBody=''`` and queues an empty message; SQS answers
``MissingParameter`` ("The request must contain the parameter MessageBody."). In a
``SendMessageBatch``, SQS fails only the entries with an empty body, each with that code in the
answer's ``Failed`` list (``SenderFault``), and sends the others. :func:`install` makes moto do both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.sqs.exceptions import MissingParameter
from moto.sqs.models import Message, SQSBackend

MOTO_SEND_MESSAGE: Callable[..., Message] = SQSBackend.send_message
MOTO_SEND_MESSAGE_BATCH: Callable[..., tuple[list[Message], list[dict[str, Any]]]] = (
    SQSBackend.send_message_batch
)
BODY = "MessageBody"


def install() -> None:
    """Patch moto's SQS backend (idempotent, per process)."""
    SQSBackend.send_message = send_message  # type: ignore[method-assign, assignment]
    SQSBackend.send_message_batch = send_message_batch  # type: ignore[method-assign, assignment]


def send_message(backend: SQSBackend, queue_name: str, message_body: str, **options: Any) -> Message:
    if not message_body:
        raise MissingParameter(BODY)
    return MOTO_SEND_MESSAGE(backend, queue_name, message_body, **options)


def send_message_batch(
    backend: SQSBackend, queue_name: str, entries: dict[str, dict[str, Any]]
) -> tuple[list[Message], list[dict[str, Any]]]:
    empty = {key: entry for key, entry in entries.items() if not entry.get(BODY)}
    rest = {key: entry for key, entry in entries.items() if key not in empty}
    sent, failed = MOTO_SEND_MESSAGE_BATCH(backend, queue_name, rest) if rest else ([], [])
    refusal = MissingParameter(BODY)
    failed = failed + [
        {"Id": entry["Id"], "SenderFault": True, "Code": refusal.code, "Message": refusal.message}
        for entry in empty.values()
    ]
    return sent, failed
