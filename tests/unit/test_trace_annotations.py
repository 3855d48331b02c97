"""The per-transaction annotations stay within X-Ray's limits, whatever the group holds."""

from __future__ import annotations

import uuid

from services.lanes import ANNOTATION_VALUE_LIMIT, _item_annotations
from services.share_event import ShareEvent


def _events(event_ids: list[str]) -> list[ShareEvent]:
    return [ShareEvent("item", "user", event_id, "2025-11-13T10:30:00.000Z") for event_id in event_ids]


def test_a_full_group_s_event_ids_are_cut_at_a_whole_id_within_the_limit() -> None:
    event_ids = [str(uuid.uuid4()) for _ in range(49)]

    shown = str(_item_annotations(_events(event_ids))["event_id"])

    assert len(shown) <= ANNOTATION_VALUE_LIMIT
    assert shown.split(" ") == event_ids[: len(shown.split(" "))]
    assert len(f"{shown} {event_ids[len(shown.split(' '))]}") > ANNOTATION_VALUE_LIMIT


def test_a_small_group_s_event_ids_are_all_there() -> None:
    annotations = _item_annotations(_events(["e-1", "e-2"]))

    assert annotations == {"item_id": "item", "event_id": "e-1 e-2"}
