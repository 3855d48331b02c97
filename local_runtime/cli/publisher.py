"""Share events onto the queue, the way the wardrobe API sends them: one, from a file, or a generated load."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_runtime.batches import chunked
from services.timestamps import format_utc, utc_now

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef


MAX_BODY_BYTES = 262_144
"""The body size every SQS queue takes (a queue's ``MaximumMessageSize`` may allow more, up to 1 MiB)."""
NOT_ALLOWED_IN_BODY = re.compile(r"[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


class PublishError(Exception):
    """Input that cannot become share events (unreadable file, bad ratio...) or a send SQS refused."""


def share_body(
    item_id: str, user_id: str, event_id: str | None = None, shared_at: datetime | str | None = None
) -> str:
    """A message body as the API writes it; ``eventId`` and ``sharedAt`` default to new and now."""
    moment = shared_at if shared_at is not None else utc_now()
    return json.dumps(
        {
            "itemId": item_id,
            "userId": user_id,
            "sharedAt": moment if isinstance(moment, str) else format_utc(moment),
            "eventId": event_id or str(uuid.uuid4()),
        }
    )


def bodies_from_file(path: Path) -> list[str]:
    """Bodies from a JSON file: an SQS event as Lambda delivers it (``samples/events/*.json``) gives each
    record's ``body`` as it is; an array gives one body per member and an object one body. Objects are
    serialised, strings are sent as they are; every body must be one SQS accepts."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise PublishError(f"cannot read share events from {path}: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        bodies = record_bodies(document)
    else:
        entries = document if isinstance(document, list) else [document]
        bodies = [entry if isinstance(entry, str) else json.dumps(entry) for entry in entries]
    for number, body in enumerate(bodies, start=1):
        try:
            check_body(body)
        except PublishError as error:
            raise PublishError(f"{path}, message {number}: {error}") from None
    return bodies


def record_bodies(event: Mapping[str, Any]) -> list[str]:
    """The message bodies of an SQS event as Lambda delivers it, as they were sent."""
    try:
        return [str(record["body"]) for record in event["Records"]]
    except (KeyError, TypeError):
        raise PublishError("an SQS event's Records must each have a body") from None


def check_body(body: str) -> None:
    """Refuses a body SQS would refuse: empty, over :data:`MAX_BODY_BYTES`, or with a character outside
    the ones SQS allows (``#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF``)."""
    if not body:
        raise PublishError("a message body must have at least 1 character (SQS refuses an empty one)")
    size = len(body.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise PublishError(
            f"a message body may have at most {MAX_BODY_BYTES} bytes (256 KiB), this one has {size}"
        )
    if found := NOT_ALLOWED_IN_BODY.search(body):
        raise PublishError(
            f"a message body may not contain the character U+{ord(found.group()):04X} (at {found.start()}): "
            "SQS allows tab, newline, carriage return and U+0020 to U+10FFFF except surrogates, "
            "U+FFFE and U+FFFF"
        )


def generated_bodies(
    count: int,
    item_ids: Sequence[str],
    user_ids: Sequence[str],
    duplicate_ratio: float = 0.0,
    rng: random.Random | None = None,
) -> Iterator[str]:
    """``count`` bodies; about ``duplicate_ratio`` of them repeat an earlier body (same eventId)."""
    if not 0 <= duplicate_ratio < 1:
        raise PublishError(f"the duplicate ratio must be at least 0 and below 1, got {duplicate_ratio}")
    if not item_ids or not user_ids:
        raise PublishError("a generated load needs at least one item id and one user id")
    rng = rng or random.Random()
    sent: list[str] = []
    for _ in range(count):
        if sent and rng.random() < duplicate_ratio:
            yield rng.choice(sent)
            continue
        body = share_body(rng.choice(item_ids), rng.choice(user_ids))
        sent.append(body)
        yield body


def send(
    sqs: SQSClient, queue_url: str, bodies: Iterable[str], on_sent: Callable[[int], Any] | None = None
) -> list[str]:
    """Sends every body (``SendMessageBatch``, 10 at a time) and returns the message ids in order.

    ``on_sent`` hears the size of each batch sent (a progress bar's ``update``).
    """
    message_ids: list[str] = []
    for chunk in chunked(bodies):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)
        ]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if failed := response.get("Failed", []):
            raise PublishError(f"SQS refused {len(failed)} message(s): {failed[0].get('Message', failed[0])}")
        by_entry = {entry["Id"]: entry["MessageId"] for entry in response.get("Successful", [])}
        message_ids.extend(by_entry[str(index)] for index in range(len(chunk)))
        if on_sent:
            on_sent(len(chunk))
    return message_ids
