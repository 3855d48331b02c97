"""``share-worker run``'s loop: the poller over execution environments until it is stopped, then
the summary (:mod:`local_runtime.cli.run_summary`).

The worker's own output (a JSON log line per record, an EMF blob per invocation: about 200 KB for
300 messages) is read, not shown: its metrics make the summary's outcome counts, and the poller's
one line per batch (on standard error) shows progress. ``show_logs`` echoes that output on standard
output as it comes, the way Lambda ships it to CloudWatch Logs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_runtime.cli.interrupts import INTERRUPTED_STATUS, ending_on_interrupt
from local_runtime.cli.run_summary import dlq_messages, run_summary
from local_runtime.lambda_service.capture import TelemetryStream
from local_runtime.lambda_service.execution_environment import EnvironmentPool
from local_runtime.lambda_service.poller import PollerSettings, SqsPoller
from local_runtime.stack.provision import StackResources
from local_runtime.stack.template import Function

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

INTERRUPTED = (
    "share-worker: interrupted: the execution environments were killed; the messages of the batches "
    "they were running stay on the queue for another delivery"
)


@dataclass(frozen=True)
class WorkerLoop:
    sqs: SQSClient
    settings: PollerSettings
    resources: StackResources
    function: Function
    show_logs: bool = False
    inspect_command: str = "share-worker dlq inspect"
    """How the summary tells the reader to look at the DLQ (with the options naming this stack)."""

    def run(self) -> int:
        """Polls until stopped or drained and prints the summary: exit status 0, or
        :data:`INTERRUPTED_STATUS` after a second Ctrl-C (the summary then says what was done)."""
        dlq_before = dlq_messages(self.sqs, self.resources.dlq_url)
        environments = EnvironmentPool(self.function, self.resources.function_arn(self.function.name))
        poller = SqsPoller(self.sqs, self.settings, environments.invoke)
        telemetry = TelemetryStream(sys.stdout if self.show_logs else None)
        status = 0
        try:
            with ending_on_interrupt(environments, poller, poller.stop), environments, telemetry.as_stdout():
                poller.run()
        except KeyboardInterrupt:
            print(INTERRUPTED, file=sys.stderr)
            status = INTERRUPTED_STATUS
        dlq = (dlq_before, dlq_messages(self.sqs, self.resources.dlq_url))
        print(run_summary(poller.stats, environments.started, telemetry.metrics, dlq, self.inspect_command))
        return status
