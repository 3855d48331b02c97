"""Batch wall time when every DynamoDB round trip costs a fixed latency, ours beside the baseline.

``python -m bench.latency [--latency-ms 200] [--repeat 3]``. The latency is added on the client side
(a ``before-send`` hook sleeps in the sending thread), so requests sent from parallel threads wait in
parallel, as they would against a distant DynamoDB. The embedded server serializes DynamoDB requests
and has costs of its own, so each batch is also timed with no added latency; the difference divided by
the latency estimates the number of sequential round-trip waves, the structure the design is about.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench.harness import CONTENDERS, BenchTable, Contender, Scenario, local_aws, median_seconds, print_report
from local_runtime.client_hooks import added_latency

SCENARIOS = (
    Scenario("1 record", records=1, items=1),
    Scenario("10 records, 10 items", records=10, items=10),
    Scenario("10 records, all on 1 item", records=10, items=1),
    Scenario("100 records, 100 items", records=100, items=100),
)
LARGE_BATCH = 100
"""From this size on a scenario is timed once: the baseline spends 300 round trips on it."""


def wall_times(
    make: Callable[[str], Contender], scenario: Scenario, latency_s: float, repeat: int
) -> tuple[float, float]:
    """Median batch time without and with the added latency, after one warm-up batch."""
    contender = make(BenchTable(scenario).name)
    contender(scenario.batch())  # the client, its connections and the code paths are warm from here on
    runs = 1 if scenario.records >= LARGE_BATCH else repeat
    plain = median_seconds(lambda: contender(scenario.batch()), runs)
    with added_latency(contender.client, latency_s):
        slowed = median_seconds(lambda: contender(scenario.batch()), runs)
    return plain, slowed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    latency_s = arguments.latency_ms / 1000
    rows: list[list[Any]] = []
    with local_aws():
        for scenario in SCENARIOS:
            (ours_plain, ours), (base_plain, base) = (
                wall_times(make, scenario, latency_s, arguments.repeat) for make in CONTENDERS
            )
            rows.append(
                [
                    scenario.name,
                    f"{ours * 1000:.0f} ms",
                    f"{base * 1000:.0f} ms",
                    f"{base / ours:.1f}x",
                    f"{(ours - ours_plain) / latency_s:.1f} / {(base - base_plain) / latency_s:.1f}",
                    f"{ours_plain * 1000:.0f} / {base_plain * 1000:.0f} ms",
                ]
            )
    print_report(
        f"Batch wall time with {arguments.latency_ms} ms added to every DynamoDB request",
        [
            f"Median of {arguments.repeat} warm batches (1 for {LARGE_BATCH} records), fresh events each.",
            "waves = (time with latency - time without) / latency: round trips one after another.",
            "Target: >= 5x faster than the baseline for 10 records on 10 items.",
        ],
        [
            "batch",
            "ours",
            "baseline",
            "speed-up",
            "waves (ours / baseline)",
            "no added latency (ours / baseline)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
