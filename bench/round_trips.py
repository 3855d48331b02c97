"""DynamoDB requests per record, counted as HTTP requests on each contender's own client.

``python -m bench.round_trips``. Deterministic: one run per scenario, on a fresh table each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bench.harness import CONTENDERS, BenchTable, Contender, Scenario, local_aws, print_report
from local_runtime.client_hooks import RequestCounter, counting_requests

SCENARIOS = (
    (Scenario("10 new events, 10 items", records=10, items=10), "≤ 1.1"),
    (Scenario("10 redelivered events (duplicates)", records=10, items=10, redelivered=True), "0.1"),
    (Scenario("10 events on missing items", records=10, items=10, items_exist=False), "0.1"),
    (Scenario("10 new events, all on 1 item", records=10, items=1), "1.1"),
    (Scenario("100 new events, 100 items", records=100, items=100), "1.02"),
)


def measure(make: Callable[[str], Contender], scenario: Scenario) -> tuple[RequestCounter, int, int]:
    """Requests sent for one batch, shares it added to the items' counts, records it failed."""
    table = BenchTable(scenario)
    contender = make(table.name)
    batch = scenario.batch()
    if scenario.redelivered:
        contender(batch)
    counted_before = table.shares_counted()
    with counting_requests(contender.client) as requests:
        response = contender(batch)
    return requests, table.shares_counted() - counted_before, len(response["batchItemFailures"])


def breakdown(requests: RequestCounter) -> str:
    parts = [
        f"{count} {re.sub(r'Items?$', '', name)}" for name, count in sorted(requests.by_operation.items())
    ]
    return f"{requests.total} ({', '.join(parts)})" if parts else "0"


def main() -> None:
    rows: list[list[Any]] = []
    with local_aws():
        for scenario, target in SCENARIOS:
            row: list[Any] = [scenario.name]
            counted = []
            for make in CONTENDERS:
                requests, shares, failures = measure(make, scenario)
                row += [breakdown(requests), f"{requests.total / scenario.records:.2f}"]
                counted.append(f"{shares}" + (f" ({failures} failed)" if failures else ""))
            rows.append([*row, target, " / ".join(counted)])
    print_report(
        "DynamoDB requests per record",
        [
            "HTTP requests sent by each contender's DynamoDB client for one batch (botocore before-send).",
            "Baseline: GetItem, UpdateItem, PutItem per record, record after record (bench/baseline.py).",
            "'shares counted': SharedCount added by the batch (ours / baseline); a redelivery must add 0.",
        ],
        [
            "batch",
            "ours: requests",
            "ours / record",
            "baseline: requests",
            "baseline / record",
            "target",
            "shares counted",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
