"""Scenario 6: hostile message bodies between two valid neighbours, through the handler and the server.

Each generated body is labelled valid or invalid *by construction*, from DESIGN.md's message table
(not by asking the worker's parser): a valid one must be applied whole, an invalid one must be
reported as a failure with a validation error and write nothing, and the neighbours in the same
batch are applied either way. Every example talks to the server, so the suite runs 40 of them;
``make reliability`` runs this module under the ``reliability-big`` hypothesis profile.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.lambda_service.capture import captured_telemetry
from local_runtime.stack.provision import create_table
from services.keys import activity_key, marker_key
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.reliability.conftest import BIG_PROFILE

pytestmark = pytest.mark.integration

ITEM = "hostile-item"
FIELDS = ("itemId", "userId", "eventId", "sharedAt")
ID_CHARACTER = re.compile(r"[A-Za-z0-9_.:-]")
NEIGHBOUR_SHARED_AT, NEIGHBOUR_STORED_AT = "2025-11-13T10:30:00Z", "2025-11-13T10:30:00.000Z"
SQS_MAX_BODY = 256 * 1024
SQS_MAX_BODY_SINCE_2025 = 1024 * 1024


@dataclass(frozen=True)
class Body:
    text: str
    valid: bool
    document: dict[str, Any] | None = None
    """The event of a valid body."""
    utc_shared_at: str = ""
    """A valid body's ``sharedAt`` as it must be stored."""


@dataclass
class HostileWorld:
    table: ShareTable
    handler: Any


@pytest.fixture(scope="module")
def world(aws: EmbeddedAws) -> Iterator[HostileWorld]:
    """One table for every example (hypothesis runs many per test); each example uses fresh event ids."""
    table = ShareTable(f"hostile-{uuid.uuid4().hex[:12]}")
    create_table(boto3.client("dynamodb"), table.name)
    table.put_item(ITEM, owner="owner-1", public=True)
    import handler

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TABLE_NAME", table.name)
        handler.worker.cache_clear()
        yield HostileWorld(table, handler)
    handler.worker.cache_clear()


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex}"


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)
not_strings = json_values.filter(lambda value: not isinstance(value, str))
valid_ids = st.from_regex(r"[A-Za-z0-9_.:-]{1,95}", fullmatch=True)
bad_characters = st.characters(codec="utf-8").filter(lambda char: not ID_CHARACTER.fullmatch(char))
ids_with_a_bad_character = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(max_size=40),
    st.sampled_from("#\x00\n\r\t /\\'\"é😀") | bad_characters,
    st.text(max_size=40),
)
key_injections = st.sampled_from(["ITEM#hostile-item", "x#METADATA", "u#ACTIVITY#2025", "EVENT#e", "#", "a#"])
invalid_ids = st.one_of(
    st.just(""),
    st.text(min_size=129, max_size=3000),
    ids_with_a_bad_character,
    key_injections,
    not_strings,
)

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
past_moments = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(2025, 1, 1), timezones=offsets)
# Local times at least three days ahead stay more than five minutes ahead in any zone.
future_moments = st.datetimes(min_value=datetime.now() + timedelta(days=3), max_value=datetime(9998, 1, 1))


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


invalid_timestamps = st.one_of(
    st.datetimes(max_value=datetime(2025, 1, 1)).map(datetime.isoformat),
    st.dates().map(lambda day: day.isoformat()),
    st.builds(lambda moment, zone: moment.replace(tzinfo=zone).isoformat(), future_moments, offsets),
    st.text(max_size=80).filter(lambda text: not _is_iso(text)),
    st.just("2025-11-13T10:30:00Z" + " " * 100),
    not_strings,
)


def _event(user_id: str, event_id: str, shared_at: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "itemId": ITEM, "userId": user_id, "eventId": unique(event_id), "sharedAt": shared_at}


@st.composite
def valid_bodies(draw: st.DrawFn) -> Body:
    """Events the contract accepts: any valid ids, any zone, any format, any unknown extra fields."""
    moment = draw(past_moments)
    if draw(st.booleans()):
        moment = moment.replace(microsecond=0)
    shared_at = moment.isoformat()
    if moment.utcoffset() == timedelta(0) and draw(st.booleans()):
        shared_at = shared_at.replace("+00:00", "Z")
    extra = draw(
        st.dictionaries(st.text(max_size=20).filter(lambda key: key not in FIELDS), json_values, max_size=3)
    )
    document = _event(draw(valid_ids), draw(valid_ids), shared_at, **extra)
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    stored = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Body(text, valid=True, document=document, utc_shared_at=stored)


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Body:
    """A valid event with one field missing or replaced by something the contract refuses."""
    document = _event("user123", "e", "2025-11-13T10:30:00Z")
    name = draw(st.sampled_from(FIELDS))
    if draw(st.booleans()):
        del document[name]
    else:
        document[name] = draw(invalid_timestamps if name == "sharedAt" else invalid_ids)
    return Body(json.dumps(document, ensure_ascii=draw(st.booleans())), valid=False)


def _not_an_event(text: str) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return True
    return not isinstance(document, dict) or not set(FIELDS) <= set(document)


garbage_bodies = (
    st.one_of(
        st.binary(min_size=1, max_size=500).map(lambda raw: raw.decode("utf-8", errors="replace")),
        st.text(max_size=500),
        json_values.map(json.dumps),
        st.recursive(st.just(0), lambda inner: st.lists(inner, min_size=1, max_size=1), max_leaves=500).map(
            json.dumps
        ),
    )
    .filter(_not_an_event)
    .map(lambda text: Body(text, valid=False))
)

hostile_bodies = st.one_of(valid_bodies(), mutated_bodies(), garbage_bodies)


def _count(world: HostileWorld) -> tuple[int, int]:
    item = world.table.item(ITEM)
    assert item is not None
    records = world.table.table.scan(Select="COUNT", ConsistentRead=True)["Count"]
    return int(item["SharedCount"]), records


def _share_keys(user_id: str, utc_shared_at: str, event_id: str) -> list[dict[str, str]]:
    return [marker_key(event_id), activity_key(user_id, utc_shared_at, event_id)]


def _check_between_neighbours(world: HostileWorld, body: Body) -> None:
    """Run ``[neighbour, body, neighbour]`` and check what was written; then remove the new records
    again, so the table (which moto copies whole on every transaction) stays small."""
    left, right = unique("left"), unique("right")
    written = [
        key for event_id in (left, right) for key in _share_keys("neighbour", NEIGHBOUR_STORED_AT, event_id)
    ]
    if body.valid:
        assert body.document is not None
        written += _share_keys(body.document["userId"], body.utc_shared_at, body.document["eventId"])
    shares_before, records_before = _count(world)
    batch = sqs_event(
        sqs_record(share_body(ITEM, "neighbour", left, NEIGHBOUR_SHARED_AT), "left"),
        sqs_record(body.text, "hostile"),
        sqs_record(share_body(ITEM, "neighbour", right, NEIGHBOUR_SHARED_AT), "right"),
    )

    with captured_telemetry() as captured:
        response = world.handler.lambda_handler(batch, None)

    assert failed_ids(response) == ([] if body.valid else ["hostile"])
    assert _count(world) == (shares_before + len(written) // 2, records_before + len(written))
    assert all("Item" in world.table.table.get_item(Key=key) for key in written)
    assert captured.metrics["ShareEventsProcessed"] == len(written) // 2
    assert captured.metrics["ValidationErrors"] == (0 if body.valid else 1)
    if not body.valid:
        [error] = [line for line in captured.logs if line["level"] == "ERROR"]
        assert error["message"].startswith("Invalid share event: ") and error["message_id"] == "hostile"
    with world.table.table.batch_writer() as cleanup:
        for key in written:
            cleanup.delete_item(Key=key)


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    max_examples=settings().max_examples if settings.get_current_profile_name() == BIG_PROFILE else 40,
)
@given(body=hostile_bodies)
def test_hostile_record_is_applied_whole_or_rejected_without_a_write_and_its_neighbours_apply(
    world: HostileWorld, body: Body
) -> None:
    _check_between_neighbours(world, body)


@pytest.mark.parametrize("limit", [SQS_MAX_BODY, SQS_MAX_BODY_SINCE_2025])
def test_bodies_at_the_sqs_size_limit_are_applied_or_rejected_whole(world: HostileWorld, limit: int) -> None:
    document = _event("user123", "big", "2025-11-13T10:30:00Z", padding="")
    room = limit - len(json.dumps(document))
    big_event = {**document, "padding": "x" * room}
    big_item_id = json.dumps({**document, "itemId": ITEM + "x" * room})
    assert len(json.dumps(big_event).encode()) == len(big_item_id.encode()) == limit

    _check_between_neighbours(
        world,
        Body(json.dumps(big_event), valid=True, document=big_event, utc_shared_at="2025-11-13T10:30:00.000Z"),
    )
    _check_between_neighbours(world, Body(big_item_id, valid=False))
