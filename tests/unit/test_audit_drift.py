"""The drift comparison: every item with a record or feed entries gets exactly one finding."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from local_runtime.audit.drift import Status, compare
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
            assert (finding.status, finding.drift) == (Status.NO_ITEM_RECORD, 0)
            continue
        drift = (table.shared_counts[finding.item_id] or 0) - table.ledger[finding.item_id]
        assert finding.drift == drift
        assert (
            finding.status
            is {1: Status.OVER_COUNTED, -1: Status.UNDER_COUNTED, 0: Status.OK}[(drift > 0) - (drift < 0)]
        )


@given(counts, st.sets(item_ids))
def test_named_items_are_compared_alone(table: TableCounts, named: set[str]) -> None:
    assert {finding.item_id for finding in compare(table, named)} == named & (
        set(table.shared_counts) | set(table.ledger)
    )
