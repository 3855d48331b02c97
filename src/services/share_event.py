"""Parse-at-the-edge: an SQS message body becomes a validated ``ShareEvent`` or an ``InvalidShareEvent``.

The contract is four short strings and one timestamp, so this is written with the standard
library instead of pydantic or the Powertools parser: those add a measurable share to every cold
start, and the timestamp rules (zone required, future limit, normalisation) would need code anyway.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.errors import InvalidShareEvent
from services.timestamps import format_utc

ID_FIELDS = ("itemId", "userId", "eventId")
ID_MAX_LENGTH = 128
ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")
SHARED_AT_MAX_LENGTH = 64
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ShareEvent:
    """A share event that passed validation; ``shared_at`` is already normalised UTC text."""

    item_id: str
    user_id: str
    event_id: str
    shared_at: str


def parse_share_event(body: str | None, now: datetime) -> ShareEvent:
    """Validate ``body`` against the message contract; unknown fields are ignored.

    ``now`` (timezone-aware) bounds how far in the future ``sharedAt`` may be.
    """
    document = _load_json_object(body)
    ids = {name: _valid_id(document, name) for name in ID_FIELDS}
    return ShareEvent(
        item_id=ids["itemId"],
        user_id=ids["userId"],
        event_id=ids["eventId"],
        shared_at=_valid_shared_at(document, now),
    )


def _load_json_object(body: str | None) -> dict[str, Any]:
    if body is None or body == "":
        raise InvalidShareEvent("message body is empty")
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidShareEvent(
            f"message body is not valid JSON: {error.msg} at position {error.pos}"
        ) from None
    except RecursionError:
        raise InvalidShareEvent("message body is not valid JSON: nested too deeply") from None
    except (ValueError, TypeError) as error:
        # Python refuses integers of more than 4300 digits with a plain ValueError, even in fields
        # the contract ignores; a body that is not text at all gives a TypeError.
        raise InvalidShareEvent(f"message body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidShareEvent(f"message body must be a JSON object, got {_json_type(document)}")
    return document


def _require_string(document: dict[str, Any], name: str) -> str:
    if name not in document:
        raise InvalidShareEvent(f"{name} is missing")
    value = document[name]
    if not isinstance(value, str):
        raise InvalidShareEvent(f"{name} must be a string, got {_json_type(value)}")
    return value


def _valid_id(document: dict[str, Any], name: str) -> str:
    value = _require_string(document, name)
    if not 1 <= len(value) <= ID_MAX_LENGTH:
        raise InvalidShareEvent(f"{name} must be 1-{ID_MAX_LENGTH} characters long, got {len(value)}")
    if not ID_PATTERN.fullmatch(value):
        bad = sorted({char for char in value if not ID_PATTERN.fullmatch(char)})
        shown = "".join(bad[:10])
        raise InvalidShareEvent(f"{name} may only contain letters, digits and _.:- (found {shown!r})")
    return value


def _valid_shared_at(document: dict[str, Any], now: datetime) -> str:
    value = _require_string(document, "sharedAt")
    if len(value) > SHARED_AT_MAX_LENGTH:
        raise InvalidShareEvent(f"sharedAt is too long ({len(value)} characters) to be a timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidShareEvent(f"sharedAt is not an ISO-8601 timestamp: {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidShareEvent(f"sharedAt must include a timezone (Z or an offset): {value!r}")
    try:
        normalised = format_utc(moment)
    except OverflowError:
        raise InvalidShareEvent(f"sharedAt is outside the representable range: {value!r}") from None
    if moment - now > MAX_CLOCK_SKEW:
        raise InvalidShareEvent(f"sharedAt is more than 5 minutes in the future: {value!r}")
    return normalised


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
