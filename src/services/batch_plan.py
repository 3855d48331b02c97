"""What each record of a batch needs, decided from the records and the batch's snapshot alone.

Every record becomes one step:

* :class:`Known`: its result is known without any write: a validation error, an ``eventId`` the
  snapshot shows applied already, a share of an item that does not exist;
* :class:`Repeat`: the same share (same ``eventId``, item and user) as an earlier record of its lane;
  it ends as its first copy did (a duplicate once that one is applied), with no write of its own —
  unless the owner rule refused the first copy: then it is tried again in its turn, as it would be
  event by event (the owner may have made the item public in between);
* :class:`NewShare`: a share to write.

Records that need writing are put in *lanes*, each a list of record positions in queue order. Lanes
run in parallel, a lane's records one after another, so a lane decides the order of its writes:

* standard queue: one lane per item, so the shares of one item can commit together and never
  conflict with each other;
* FIFO queue: one lane per ``MessageGroupId``, every record of the group included, so a failure can
  stop the later records of its group (:mod:`services.lanes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.batch_snapshot import BatchSnapshot
from services.errors import InvalidShareEvent
from services.outcomes import ITEM_NOT_FOUND, Settlement
from services.share_event import ShareEvent
from services.share_service import duplicate_of

ParsedRecord = ShareEvent | InvalidShareEvent


@dataclass(frozen=True)
class Known:
    result: Settlement | InvalidShareEvent


@dataclass(frozen=True)
class Repeat:
    original: int
    """Position of the first copy in the batch."""
    event: ShareEvent


@dataclass(frozen=True)
class NewShare:
    event: ShareEvent


Step = Known | Repeat | NewShare


@dataclass(frozen=True)
class BatchPlan:
    steps: list[Step]
    lanes: list[list[int]]
    """Positions to run, lane by lane, in queue order; positions in no lane are :class:`Known`."""


def plan_batch(
    parsed: Sequence[ParsedRecord], snapshot: BatchSnapshot, message_groups: Sequence[str] | None = None
) -> BatchPlan:
    """``message_groups`` (one per record) makes it a FIFO batch: lanes follow the groups."""
    lane_keys = [
        f"group:{message_groups[index]}" if message_groups is not None else _item_lane(parsed[index], index)
        for index in range(len(parsed))
    ]
    steps: list[Step] = []
    first_copies: dict[tuple[str, str], int] = {}
    for index, record in enumerate(parsed):
        step = _step(record, snapshot)
        if isinstance(step, NewShare):
            copy_key = (lane_keys[index], step.event.event_id)
            original = first_copies.setdefault(copy_key, index)
            if original != index and _same_share(parsed[original], step.event):
                step = Repeat(original, step.event)
        steps.append(step)
    lanes: dict[str, list[int]] = {}
    for index, step in enumerate(steps):
        if message_groups is not None or not isinstance(step, Known):
            lanes.setdefault(lane_keys[index], []).append(index)
    return BatchPlan(steps=steps, lanes=list(lanes.values()))


def _step(record: ParsedRecord, snapshot: BatchSnapshot) -> Step:
    if isinstance(record, InvalidShareEvent):
        return Known(record)
    marker = snapshot.markers.get(record.event_id)
    if marker is not None:
        return Known(duplicate_of(record, marker))
    if record.item_id not in snapshot.items:
        return Known(ITEM_NOT_FOUND)
    return NewShare(record)


def _item_lane(record: ParsedRecord, index: int) -> str:
    return f"item:{record.item_id}" if isinstance(record, ShareEvent) else f"record:{index}"


def _same_share(first: ParsedRecord, event: ShareEvent) -> bool:
    return isinstance(first, ShareEvent) and (first.item_id, first.user_id) == (event.item_id, event.user_id)
