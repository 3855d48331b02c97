"""The figures tables of ``make reliability``: what was sent, what the worker went through, what came out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from testkit.faults import FaultKind
from testkit.reliability import ScenarioResult

FIGURES_HEADERS = [
    "scenario",
    "events",
    "messages",
    "duplicates",
    "deliveries",
    "redeliveries",
    "faults",
    "lost commits",
    "crashes",
    "expected",
    "found",
    "lost",
    "double-applied",
    "unapplied",
    "half-written",
    "dead letters",
    "time (s)",
]
TARGETED_TRANSACTIONS = "targeted transactions"
"""The fault table's last row: transactions on the item a fault plan aims at (scenario 8's hot item)."""


def figures_row(label: str, rounds: Sequence[ScenarioResult], seconds: float) -> list[Any]:
    """One line of the figures table, summed over the rounds of one scenario that ran to the end."""
    if not rounds:
        return [label, *(["-"] * (len(FIGURES_HEADERS) - 2)), f"{seconds:.0f}"]
    sums = [sum(column) for column in zip(*(_figures(result) for result in rounds), strict=True)]
    return [label, *sums, f"{seconds:.0f}"]


def _figures(result: ScenarioResult) -> list[int]:
    audit, queue = result.audit, result.queue
    return [
        result.scenario.events,
        queue.messages,
        queue.messages - result.scenario.events,
        queue.deliveries,
        queue.redeliveries,
        result.faults.faults,
        result.faults.lost_commits,
        queue.crashes,
        sum(audit.expected_counts.values()),
        sum(audit.found_counts.values()),
        audit.lost,
        audit.double_applied,
        audit.unapplied,
        audit.half_written,
        len(queue.dead_letters),
    ]


def fault_rows(scenarios: Sequence[Sequence[ScenarioResult]]) -> list[list[Any]]:
    """Faults injected, by kind (rows) and scenario (columns, summed over its rounds), then the
    transactions on the targeted item: the conflicts of scenario 8 are a share of those."""
    injected = [
        [kind.value, *(sum(result.faults.injected[kind] for result in rounds) for rounds in scenarios)]
        for kind in FaultKind
    ]
    targeted = [sum(result.faults.item_transactions for result in rounds) for rounds in scenarios]
    return [*injected, [TARGETED_TRANSACTIONS, *targeted]]
