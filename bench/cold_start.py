"""Cold start, in fresh interpreters: ``import handler`` against ``import boto3``, first invocation, memory.

``python -m bench.cold_start [--repeat 31] [--invocations 5]``

The function is copied to a temporary directory the way ``sam build`` ships ``src/``: our modules
without bytecode (Lambda's ``/var/task`` is read-only, so Python compiles them at every cold start),
the libraries with theirs (pip compiles them at install). Import runs of the variants alternate, so
background load on the machine falls on all of them alike; each run times its import from inside
the child (``perf_counter`` and ``process_time`` around the ``import``), and medians are reported.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import BenchTable, Scenario, local_aws, print_report

SRC = Path(__file__).resolve().parent.parent / "src"
FIRST_INVOCATION = Path(__file__).resolve().parent / "first_invocation.py"
RSS_TARGET_MB = 80
LOCAL = {"POWERTOOLS_TRACE_DISABLED": "true"}


@dataclass
class Variant:
    name: str
    module: str
    package: str = "plain"
    environment: dict[str, str] = field(default_factory=dict)
    in_lambda: bool = False
    """Sets ``LAMBDA_TASK_ROOT``: Powertools then traces, and the X-Ray SDK takes its Lambda set-up."""
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without anything that would change what a cold start does."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_SAM", "PYTHONPATH", "_X_AMZN"))
    }
    return {**kept, "PYTHONDONTWRITEBYTECODE": "1", **extra}


def packages(root: Path) -> dict[str, Path]:
    """``plain``: src/ as deployed; ``compiled``: the same with bytecode precompiled."""
    copies = {name: root / name for name in ("plain", "compiled")}
    for copy in copies.values():
        shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(copies["compiled"], quiet=1)
    return copies


def time_import(variant: Variant, package: Path) -> None:
    probe = (
        "import time\n"
        "wall, cpu = time.perf_counter(), time.process_time()\n"
        f"import {variant.module}\n"
        "print(time.perf_counter() - wall, time.process_time() - cpu)"
    )
    environment = {"LAMBDA_TASK_ROOT": str(package)} if variant.in_lambda else {}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=package,
        env=child_environment({**variant.environment, **environment}),
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = (float(value) for value in result.stdout.split())
    variant.wall.append(wall)
    variant.cpu.append(cpu)


def import_rows(copies: dict[str, Path], repeat: int) -> list[list[Any]]:
    variants = [
        Variant("import boto3 (the floor)", "boto3"),
        Variant(
            "import boto3 + Powertools batch (the libraries alone)",
            "boto3, aws_lambda_powertools.utilities.batch",
        ),
        Variant("import handler, tracing off (as run locally)", "handler", environment=LOCAL),
        Variant("import handler, in Lambda with X-Ray tracing on", "handler", in_lambda=True),
        Variant("import handler, tracing off, bytecode shipped", "handler", "compiled", LOCAL),
    ]
    for _ in range(repeat):
        for variant in variants:
            time_import(variant, copies[variant.package])
    floor_wall, floor_cpu = statistics.median(variants[0].wall), statistics.median(variants[0].cpu)
    rows = []
    for variant in variants:
        wall, cpu = statistics.median(variant.wall), statistics.median(variant.cpu)
        rows.append(
            [
                variant.name,
                f"{wall * 1000:.0f} ms",
                f"{wall / floor_wall:.2f}x",
                f"{cpu * 1000:.0f} ms",
                f"{cpu / floor_cpu:.2f}x",
            ]
        )
    return rows


def first_invocation_row(package: Path, invocations: int, workdir: Path) -> list[Any]:
    """Median of ``invocations`` fresh interpreters, each: import, one batch of 10, one more."""
    scenario = Scenario("10 records, 10 items", records=10, items=10)
    results: list[dict[str, Any]] = []
    with local_aws():
        table = BenchTable(scenario)
        environment = child_environment({**LOCAL, "TABLE_NAME": table.name, "PYTHONPATH": str(package)})
        for run in range(invocations):
            batches, result = workdir / f"batches-{run}.json", workdir / f"result-{run}.json"
            batches.write_text(json.dumps([scenario.batch(), scenario.batch()]))
            subprocess.run(
                [sys.executable, str(FIRST_INVOCATION), str(batches), str(result)],
                env=environment,
                stdout=subprocess.DEVNULL,
                check=True,
            )
            results.append(json.loads(result.read_text()))
    assert all(Path(result["handler_file"]).is_relative_to(package) for result in results)
    assert all(result["failures"] == 0 for result in results), "a benchmark batch failed"

    def median_ms(key: str) -> str:
        return f"{statistics.median(result[key] for result in results) * 1000:.0f} ms"

    rss = [result["peak_rss_mb"] for result in results if result["peak_rss_mb"] is not None]
    return [
        median_ms("import_s"),
        median_ms("first_invocation_s"),
        median_ms("second_invocation_s"),
        f"{statistics.median(rss):.1f} MB (max {max(rss):.1f})" if rss else "n/a (no /proc)",
        f"<= {RSS_TARGET_MB} MB",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--invocations", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="share-worker-cold-start-") as workdir:
        copies = packages(Path(workdir))
        imports = import_rows(copies, arguments.repeat)
        invocation = first_invocation_row(copies["plain"], arguments.invocations, Path(workdir))
    print_report(
        "Cold start: import time",
        [
            f"Median of {arguments.repeat} fresh interpreters per row, runs interleaved; "
            "time measured around the import inside the child.",
            "Target: import handler <= 1.3x import boto3.",
        ],
        ["what is imported", "wall", "wall / boto3", "CPU", "CPU / boto3"],
        imports,
    )
    print_report(
        "Cold start: first invocation and memory",
        [
            f"Median of {arguments.invocations} fresh interpreters (tracing off), each: import handler, "
            "a batch of 10 new events on 10 items, then another.",
            "The first invocation builds the boto3 resource (loads the DynamoDB model), opens connections.",
            "Peak RSS: VmHWM after both batches (Lambda's Max Memory Used adds its runtime client to it).",
        ],
        ["import handler", "first invocation", "second (warm) invocation", "peak RSS", "target"],
        [invocation],
    )


if __name__ == "__main__":
    main()
