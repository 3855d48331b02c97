"""The embedded AWS in a process of its own: prints its endpoint, serves until its stdin closes.

A line ``dynamodb-requests`` on its stdin is answered with the number of DynamoDB requests served so
far (the throughput benchmark counts the requests of handlers running in processes of their own).

The benchmarks talk to it from another process, as the worker talks to a remote DynamoDB: in the
benchmark's own process the emulator would compete with the worker's threads for the GIL and be
timed as part of the worker.
"""

from __future__ import annotations

import sys

from local_runtime.aws.embedded_aws import EmbeddedAws


def main() -> None:
    server = EmbeddedAws().start()
    print(server.endpoint_url, flush=True)
    for line in sys.stdin:
        if line.strip() == "dynamodb-requests":
            print(server.dynamodb_requests, flush=True)
    server.stop()


if __name__ == "__main__":
    main()
