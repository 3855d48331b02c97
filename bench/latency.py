"""Batch wall time when every DynamoDB round trip costs a fixed latency, ours beside the peer and baseline.

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
from bench.request_log import on_each_client
from testkit.client_hooks import added_latency

SCENARIOS = (
    (Scenario("1 record", records=1, items=1), ""),
    (Scenario("10 records, 10 items", records=10, items=10), ">= 5x"),
    (Scenario("10 records, all on 1 item", records=10, items=1), ">= 8x"),
    (Scenario("100 records, 100 items", records=100, items=100), ""),
)
LARGE_BATCH = 100
"""From this size on a scenario is timed once: the peer spends 500 round trips on it, the baseline 300."""


def wall_times(
    make: Callable[[str], Contender], scenario: Scenario, latency_s: float, repeat: int
) -> tuple[float, float]:
    """Median batch time without and with the added latency, after one warm-up batch."""
    contender = make(BenchTable(scenario).name)
    contender(scenario.batch())  # the client, its connections and the code paths are warm from here on
    runs = 1 if scenario.records >= LARGE_BATCH else repeat
    plain = median_seconds(lambda: contender(scenario.batch()), runs)
    with on_each_client(contender.clients, lambda client: added_latency(client, latency_s)):
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
        for scenario, target in SCENARIOS:
            times = [wall_times(make, scenario, latency_s, arguments.repeat) for make in CONTENDERS]
            (_, ours), (_, peer), (_, base) = times
            rows.append(
                [
                    scenario.name,
                    *(f"{slowed * 1000:.0f} ms" for _, slowed in times),
                    f"{base / ours:.1f}x",
                    f"{peer / ours:.1f}x",
                    target,
                    " / ".join(f"{(slowed - plain) / latency_s:.1f}" for plain, slowed in times),
                    " / ".join(f"{plain * 1000:.0f}" for plain, _ in times) + " ms",
                ]
            )
    print_report(
        f"Batch wall time with {arguments.latency_ms} ms added to every DynamoDB request",
        [
            f"Median of {arguments.repeat} warm batches (1 for {LARGE_BATCH} records), fresh events each.",
            "waves = (time with latency - time without) / latency: round trips one after another.",
            "peer: the baseline's three calls made idempotent with Powertools (bench/peer.py).",
            "Target: speed-up over the baseline.",
        ],
        [
            "batch",
            "ours",
            "peer",
            "baseline",
            "speed-up vs baseline",
            "vs peer",
            "target",
            "waves (ours / peer / baseline)",
            "no added latency (ours / peer / baseline)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
