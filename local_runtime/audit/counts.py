"""``SharedCount`` as the audit reads it, parsed in this one place: the first scan reads it with the
low-level client and the confirmation with the resource, and both must agree on what is a count."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Malformed:
    """A ``SharedCount`` that is not an integer (a string, a fraction, a boolean...): the worker's
    ``ADD`` cannot have written it, so a person must look; ``text`` is its value as read."""

    text: str

    def __str__(self) -> str:
        return self.text


Count = int | None | Malformed
"""A parsed ``SharedCount``: ``None`` when the record has none, which the worker's ``ADD`` reads as 0."""


def parse_count(value: object) -> Count:
    """``value`` as the SDK deserialized it (``Decimal`` for a number); absent is ``None``."""
    if value is None:
        return None
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return Malformed(repr(str(value)) if isinstance(value, str) else str(value))
