"""Share events as the publisher writes them: one, from a file, or a generated load with duplicates."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from local_runtime.cli.publisher import PublishError, bodies_from_file, generated_bodies, share_body
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
