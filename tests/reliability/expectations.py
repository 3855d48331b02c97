"""The exactly-once promise, asserted on a scenario's audit with messages that say what broke."""

from __future__ import annotations

from local_runtime.reliability import ScenarioResult


def assert_every_event_applied_exactly_once(result: ScenarioResult) -> None:
    audit, queue = result.audit, result.queue
    assert audit.found_counts == audit.expected_counts
    assert sum(audit.expected_counts.values()) == result.scenario.events
    assert set(audit.markers) == set(audit.activities) == audit.event_ids
    assert set(audit.markers.values()) == set(audit.activities.values()) == {1}
    assert (audit.lost, audit.double_applied, audit.half_written) == (0, 0, 0)
    assert (queue.crashes, queue.dead_letters) == (0, [])
    assert queue.metrics["ShareEventsProcessed"] + queue.metrics["DuplicateEvents"] == queue.messages
