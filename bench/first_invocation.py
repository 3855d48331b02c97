"""Run by ``bench.cold_start`` in a fresh interpreter: ``import handler``, then two batches.

``python first_invocation.py BATCHES_JSON RESULT_JSON``: BATCHES_JSON holds two SQS events. Only the
standard library is loaded before ``handler``, so the figures are the function's own.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float | None:
    """``VmHWM``, this process's resident-memory high-water mark (Linux).

    Not ``ru_maxrss``: that one survives ``exec`` and so reports the parent's size after a fork.
    """
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def main() -> None:
    batches_path, result_path = sys.argv[1:3]
    first_batch, second_batch = json.loads(Path(batches_path).read_text())
    started = time.perf_counter()
    import handler

    imported = time.perf_counter()
    first = handler.lambda_handler(first_batch, None)
    first_done = time.perf_counter()
    second = handler.lambda_handler(second_batch, None)
    second_done = time.perf_counter()
    result = {
        "import_s": imported - started,
        "first_invocation_s": first_done - imported,
        "second_invocation_s": second_done - first_done,
        "peak_rss_mb": peak_rss_mb(),
        "failures": len(first["batchItemFailures"]) + len(second["batchItemFailures"]),
        "handler_file": handler.__file__,
    }
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
