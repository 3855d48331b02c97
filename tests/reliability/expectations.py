"""The exactly-once promise, asserted on a scenario's audit with messages that say what broke."""

from __future__ import annotations

from testkit.reliability import ScenarioResult


def assert_exactly_once_in_the_table(result: ScenarioResult) -> None:
    """What the table and the dead-letter queue show, whoever ran the worker."""
    audit, queue = result.audit, result.queue
    assert audit.found_counts == audit.expected_counts
    assert sum(audit.expected_counts.values()) == result.scenario.events
    assert set(audit.markers) == set(audit.activities) == audit.event_ids
    assert set(audit.markers.values()) == set(audit.activities.values()) == {1}
    assert (audit.lost, audit.double_applied, audit.unapplied, audit.half_written) == (0, 0, 0, 0)
    assert queue.dead_letters == []


def assert_every_event_applied_exactly_once(result: ScenarioResult) -> None:
    """The table, and what the in-memory queue saw of the invocations: none raised, every message
    was applied or counted as a duplicate."""
    assert_exactly_once_in_the_table(result)
    queue = result.queue
    assert queue.crashes == 0
    assert queue.metrics["ShareEventsProcessed"] + queue.metrics["DuplicateEvents"] == queue.messages
