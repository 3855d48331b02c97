"""Share events as the publisher writes them: one, from a file, or a generated load with duplicates."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from local_runtime.cli.publisher import (
    MAX_BODY_BYTES,
    PublishError,
    bodies_from_file,
    check_body,
    generated_bodies,
    share_body,
)
from services.share_event import parse_share_event
from services.timestamps import utc_now


def test_a_published_body_is_a_valid_share_event() -> None:
    event = parse_share_event(share_body("test-item", "user123"), now=utc_now())

    assert (event.item_id, event.user_id) == ("test-item", "user123")
    assert len(event.event_id) == 36


def test_a_generated_load_repeats_about_the_chosen_share_of_events() -> None:
    bodies = list(generated_bodies(1000, ["a", "b"], ["u1", "u2"], duplicate_ratio=0.2, rng=random.Random(1)))

    event_ids = [json.loads(body)["eventId"] for body in bodies]
    assert len(bodies) == 1000
    assert 150 <= len(event_ids) - len(set(event_ids)) <= 250
    assert {json.loads(body)["itemId"] for body in bodies} == {"a", "b"}


@pytest.mark.parametrize("ratio", [-0.1, 1.0])
def test_a_duplicate_ratio_outside_zero_to_one_is_refused(ratio: float) -> None:
    with pytest.raises(PublishError, match="duplicate ratio must be at least 0 and below 1"):
        list(generated_bodies(1, ["a"], ["u"], ratio))


def test_a_file_holds_one_event_or_a_list_and_strings_are_sent_as_they_are(tmp_path: Path) -> None:
    single, many = tmp_path / "one.json", tmp_path / "many.json"
    single.write_text('{"itemId": "a"}')
    many.write_text('[{"itemId": "a"}, "not json"]')

    assert bodies_from_file(single) == ['{"itemId": "a"}']
    assert bodies_from_file(many) == ['{"itemId": "a"}', "not json"]


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")

    with pytest.raises(PublishError, match=f"cannot read share events from {broken}"):
        bodies_from_file(broken)


def test_an_sqs_event_file_gives_each_record_s_body_as_it_is(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"Records": [{"body": '{"itemId": "a"}'}, {"body": "not json"}]}))

    assert bodies_from_file(event) == ['{"itemId": "a"}', "not json"]


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ("", "at least 1 character"),
        ("x" * (MAX_BODY_BYTES + 1), f"at most {MAX_BODY_BYTES} bytes"),
        ("é" * (MAX_BODY_BYTES // 2 + 1), f"at most {MAX_BODY_BYTES} bytes (256 KiB), this one has"),
        ("a\x00", "U+0000"),
        ("a\ufffe", "U+FFFE"),
        ("\ud800", "U+D800"),
    ],
    ids=["empty", "too long", "too many bytes", "NUL", "U+FFFE", "a lone surrogate"],
)
def test_a_body_sqs_refuses_is_refused_before_sending(body: str, refused: str) -> None:
    with pytest.raises(PublishError, match=re.escape(refused)):
        check_body(body)


def test_a_body_of_every_character_sqs_allows_is_accepted() -> None:
    check_body("\t\n\r x\ud7ff\ue000\ufffd\U00010000\U0010ffff" + "x" * (MAX_BODY_BYTES - 30))
