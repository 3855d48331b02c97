"""Message validation: every rule of DESIGN.md's message table, and a property over any body."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.errors import InvalidShareEvent
from services.share_event import ShareEvent, parse_share_event

NOW = datetime(2025, 11, 13, 12, 0, tzinfo=UTC)
VALID = {
    "itemId": "test-item",
    "userId": "user123",
    "sharedAt": "2025-11-13T10:30:00Z",
    "eventId": "test-event",
}


def parse(document: Any) -> ShareEvent:
    return parse_share_event(json.dumps(document), now=NOW)


def with_field(name: str, value: Any) -> dict[str, Any]:
    return {**VALID, name: value}


def test_valid_event_is_parsed_and_time_normalised_to_fixed_width_utc() -> None:
    event = parse(with_field("sharedAt", "2025-11-13T11:30:00.5+01:00"))

    assert event == ShareEvent("test-item", "user123", "test-event", "2025-11-13T10:30:00.500Z")


def test_unknown_fields_are_ignored() -> None:
    assert parse({**VALID, "campaign": "autumn", "nested": {"a": [1, 2]}}).item_id == "test-item"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "message body is empty"),
        ("", "message body is empty"),
        ("not json", "message body is not valid JSON"),
        ("[1, 2]", "message body must be a JSON object, got array"),
        ('"text"', "message body must be a JSON object, got string"),
        ("null", "message body must be a JSON object, got null"),
        ("[" * 100_000 + "]" * 100_000, "message body is not valid JSON"),
    ],
)
def test_body_that_is_not_a_json_object_is_rejected(body: str | None, message: str) -> None:
    with pytest.raises(InvalidShareEvent, match=message):
        parse_share_event(body, now=NOW)


@pytest.mark.parametrize("name", ["itemId", "userId", "eventId", "sharedAt"])
def test_missing_field_is_named(name: str) -> None:
    document = {key: value for key, value in VALID.items() if key != name}
    with pytest.raises(InvalidShareEvent, match=f"^{name} is missing$"):
        parse(document)


@pytest.mark.parametrize(
    ("value", "kind"), [(42, "number"), (True, "boolean"), (None, "null"), ([], "array")]
)
@pytest.mark.parametrize("name", ["itemId", "userId", "eventId", "sharedAt"])
def test_mistyped_field_is_named_with_its_type(name: str, value: Any, kind: str) -> None:
    with pytest.raises(InvalidShareEvent, match=f"^{name} must be a string, got {kind}$"):
        parse(with_field(name, value))


@pytest.mark.parametrize("value", ["", "x" * 129])
@pytest.mark.parametrize("name", ["itemId", "userId", "eventId"])
def test_id_length_is_limited(name: str, value: str) -> None:
    with pytest.raises(InvalidShareEvent, match=f"{name} must be 1-128 characters long, got {len(value)}"):
        parse(with_field(name, value))


@pytest.mark.parametrize("value", ["ITEM#x", "a b", "ä", "id\n", "a/b", "x\x00"])
def test_id_characters_are_limited_so_they_cannot_break_a_key(value: str) -> None:
    with pytest.raises(
        InvalidShareEvent, match=re.escape("itemId may only contain letters, digits and _.:-")
    ):
        parse(with_field("itemId", value))


@pytest.mark.parametrize(
    "value", ["01JCWXYZ8Q4KTV3M9N2P5R7S6A", "550e8400-e29b-41d4-a716-446655440000", "a.b:c_d-e", "x" * 128]
)
def test_realistic_ids_are_accepted(value: str) -> None:
    assert parse(with_field("eventId", value)).event_id == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-11-13T10:30:00", "sharedAt must include a timezone"),
        ("2025-11-13", "sharedAt must include a timezone"),
        ("yesterday", "sharedAt is not an ISO-8601 timestamp"),
        ("2025-13-01T00:00:00Z", "sharedAt is not an ISO-8601 timestamp"),
        ("2025-11-13T12:05:01Z", "sharedAt is more than 5 minutes in the future"),
        ("9999-12-31T23:59:59-05:00", "sharedAt is outside the representable range"),
        ("2025-11-13T10:30:00Z" + " " * 60, "sharedAt is too long"),
    ],
)
def test_bad_timestamps_are_rejected_with_the_reason(value: str, message: str) -> None:
    with pytest.raises(InvalidShareEvent, match=message):
        parse(with_field("sharedAt", value))


def test_timestamp_up_to_five_minutes_ahead_is_accepted_as_clock_skew() -> None:
    assert parse(with_field("sharedAt", "2025-11-13T12:05:00Z")).shared_at == "2025-11-13T12:05:00.000Z"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
id_like = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.:-]{1,128}", fullmatch=True), st.text(max_size=140), st.integers()
)
share_like = st.fixed_dictionaries(
    {"itemId": id_like, "userId": id_like, "eventId": id_like},
    optional={
        "sharedAt": st.one_of(st.datetimes(timezones=st.timezones()).map(datetime.isoformat), st.text())
    },
)


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.text(), json_values.map(json.dumps), share_like.map(json.dumps)))
def test_any_body_parses_to_a_valid_event_or_raises_the_validation_error(body: str) -> None:
    try:
        event = parse_share_event(body, now=NOW)
    except InvalidShareEvent as error:
        assert str(error)
        return
    for value in (event.item_id, event.user_id, event.event_id):
        assert 1 <= len(value) <= 128 and "#" not in value
    assert len(event.shared_at) == 24 and event.shared_at.endswith("Z")


def test_early_years_keep_the_fixed_width() -> None:
    assert parse(with_field("sharedAt", "0111-01-01T00:00:00+00:00")).shared_at == "0111-01-01T00:00:00.000Z"


def test_an_integer_too_long_for_python_is_a_validation_error_even_in_an_ignored_field() -> None:
    body = json.dumps(VALID)[:-1] + ', "extra": ' + "9" * 5000 + "}"

    with pytest.raises(InvalidShareEvent, match="message body is not valid JSON"):
        parse_share_event(body, now=NOW)
