"""The drift comparison: every item with a record or feed entries gets exactly one finding; the drift
of an item that took shares while confirmed is only reported when its sign is certain; ``SharedCount``
values that are not integers are malformed."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_runtime.audit.counts import Malformed, parse_count
from local_runtime.audit.drift import DRIFTING, Finding, Status, compare
from local_runtime.audit.ledger_scan import TableCounts

item_ids = st.sampled_from([f"item-{n}" for n in range(8)])
counts = st.builds(
    TableCounts,
    shared_counts=st.dictionaries(item_ids, st.none() | st.integers(0, 50)),
    ledger=st.dictionaries(item_ids, st.integers(1, 50)).map(Counter),
)


@given(counts)
def test_each_finding_s_drift_is_its_count_less_its_ledger(table: TableCounts) -> None:
    findings = compare(table)

    assert [finding.item_id for finding in findings] == sorted(set(table.shared_counts) | set(table.ledger))
    for finding in findings:
        if finding.item_id not in table.shared_counts:
            assert (finding.status, finding.drift) == (Status.NO_ITEM_RECORD, None)
            continue
        count = table.shared_counts[finding.item_id]
        assert not isinstance(count, Malformed)
        drift = (count or 0) - table.ledger[finding.item_id]
        assert finding.drift == drift
        assert (
            finding.status
            is {1: Status.OVER_COUNTED, -1: Status.UNDER_COUNTED, 0: Status.OK}[(drift > 0) - (drift < 0)]
        )


@given(
    seen=st.integers(0, 30),
    true_drift=st.integers(-10, 10),
    landed=st.integers(0, 5),
    counted=st.integers(0, 5),
)
def test_a_reported_drift_is_never_made_up_by_shares_landing_during_confirmation(
    seen: int, true_drift: int, landed: int, counted: int
) -> None:
    """``landed`` shares arrive between the two reads of the count, ``counted`` of them before the
    ledger scan read their entries: the drift (which shares do not change) lies in the bounds, and a
    drifting status has its sign."""
    counted = min(counted, landed)
    ledger = seen - true_drift + counted
    finding = Finding("item", seen, ledger, seen + landed)

    assert finding.drift_bounds is not None
    least, most = finding.drift_bounds
    assert least <= true_drift <= most
    if finding.status in DRIFTING:
        assert (true_drift > 0) == (finding.status is Status.OVER_COUNTED) and true_drift != 0
    if landed:
        assert finding.status is not Status.OK
        assert finding.drift is None
    elif true_drift == 0:
        assert finding.status is Status.OK
    if least <= 0 <= most and landed:
        assert finding.status is Status.CHANGED_DURING_AUDIT


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (None, None),
        (Decimal("5"), 5),
        (Decimal("-2"), -2),
        ("5", Malformed("'5'")),
        ("many", Malformed("'many'")),
        (Decimal("2.5"), Malformed("2.5")),
        (Decimal("NaN"), Malformed("NaN")),
        (True, Malformed("True")),
        ({Decimal("1")}, Malformed("{Decimal('1')}")),
    ],
)
def test_shared_count_is_an_integer_or_malformed(value: object, parsed: object) -> None:
    assert parse_count(value) == parsed


def test_a_malformed_count_has_no_drift_and_needs_a_person() -> None:
    finding = Finding("item", Malformed("'many'"), 3, Malformed("'many'"))

    assert (finding.status, finding.drift, finding.drift_bounds) == (Status.MALFORMED_COUNT, None, None)
