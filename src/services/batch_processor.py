"""Powertools' SQS ``BatchProcessor``, processing a share batch as a whole instead of record by record.

Powertools hands records to a handler one at a time. This subclass keeps its bookkeeping (success
and failure lists, the ``batchItemFailures`` response) and replaces the loop, because the records of
one batch are worth more together:

1. every record is parsed; a record that breaks the message contract fails alone;
2. ONE read for the whole batch (:mod:`services.batch_snapshot`), before any write;
3. a plan (:mod:`services.batch_plan`) and its lanes (:mod:`services.lanes`), run in parallel on
   worker threads: the new shares of one item commit in one transaction;
4. each record is logged, counted and reported in queue order, on this thread.

The time budget holds whatever DynamoDB does: no request starts with less than the margin left
(:mod:`services.deadline`), and this thread stops waiting for the workers at the cutoff
(``RESPONSE_RESERVE_MS`` before the deadline): records not finished by then are reported for retry.
A transaction still in flight then may commit later; its record comes back and is settled as a
duplicate.

FIFO queues (``eventSourceARN`` ending in ``.fifo``) run one lane per ``MessageGroupId``: a failed
record stops the later records of its group, which are reported untouched, while other groups go on
— the rule of Powertools' ``SqsFifoPartialProcessor(skip_group_on_error=True)``, which cannot be
used itself because it hands records over one at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services import deadline as budget
from services.batch_plan import BatchPlan, Known, plan_batch
from services.batch_report import BatchReport
from services.batch_snapshot import BatchSnapshot
from services.deadline import Deadline, RemainingTime
from services.errors import DeadlineApproaching, UnexpectedError, UnreportableFailure
from services.lanes import BatchResults, LaneRunner, Result
from services.outcomes import (
    BATCH_SIZE_METRIC,
    FAILED_RECORDS_METRIC,
    RECORD_METRICS,
    SUCCESSFUL_RECORDS_METRIC,
    TRANSACTION_RETRIES_METRIC,
    Settlement,
)
from services.record_handler import ParsedRecord, ShareRecordHandler
from services.share_event import ShareEvent
from services.share_service import ShareService
from services.telemetry import annotate, carry_trace, close_abandoned_subsegments, count, logger

CUTOFF_POLL_S = 0.5
"""The cutoff is re-read this often while waiting, so a context whose clock is not the wall clock works."""
FIFO_SUFFIX = ".fifo"
NO_TIME_TO_WRITE_LOG = (
    "No write can start in this invocation: it began with less time than the batch keeps back "
    "(DEADLINE_MARGIN_MS plus 0.5 ms a record). Lower BatchSize or DEADLINE_MARGIN_MS, or raise "
    "FunctionTimeout (README, Time budget)"
)


class _NoDeadline:
    """The remaining time when the processor runs without a Lambda context (a script, a unit test)."""

    counts_down = False

    def get_remaining_time_in_millis(self) -> int:
        return 2**31


class ShareBatchProcessor(BatchProcessor):
    def __init__(
        self,
        share_service: ShareService,
        record_handler: ShareRecordHandler,
        *,
        max_parallel: int,
        deadline_margin_ms: int,
    ) -> None:
        # A batch whose records all failed is reported record by record like any other, instead of
        # Powertools raising: Lambda's Errors metric stays for real crashes. SQS retries the same way.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.share_service = share_service
        self.record_handler = record_handler
        self.max_parallel = max_parallel
        self.deadline_margin_ms = deadline_margin_ms

    def __call__(
        self, records: list[dict[str, Any]], handler: Callable[..., Any], lambda_context: Any = None
    ) -> ShareBatchProcessor:
        # Powertools keeps the context of an earlier call when none is given; this batch has none.
        self.lambda_context = lambda_context
        super().__call__(records, handler, lambda_context)
        return self

    def process(self) -> list[tuple[Any, ...]]:
        records = [SQSRecord(raw) for raw in self.records]
        parsed = [self.record_handler.parse(record) for record in records]
        context = cast(RemainingTime | None, getattr(self, "lambda_context", None))
        deadline = Deadline(context or _NoDeadline(), self.deadline_margin_ms, records=len(records))
        if records and not deadline.allows_start():
            logger.error(
                NO_TIME_TO_WRITE_LOG,
                extra={
                    "batch_size": len(records),
                    "remaining_ms": deadline.remaining_ms(),
                    "margin_ms": deadline.margin_ms,
                },
            )
        results = BatchResults(len(records))
        # Not a ``with`` block: leaving one waits for every thread, a hanging request's included.
        groups = _message_groups(records)
        # A FIFO lane may wait for another group's turn on an item: every group gets a thread of its
        # own (a FIFO batch holds at most 10 records), so a waiting lane never keeps another from starting.
        workers = self.max_parallel if groups is None else max(self.max_parallel, len(set(groups)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="share-lane")
        try:
            self._run(parsed, groups, deadline, results, pool)
        finally:
            # A thread still in a request is left behind; BatchResults ignores what it does next.
            pool.shutdown(wait=False, cancel_futures=True)
        final, retries = results.close()
        close_abandoned_subsegments()
        report = BatchReport(deadline, len(records))
        responses = [
            self._report(record, parsed[index], final[index] or _unfinished(deadline), report)
            for index, record in enumerate(records)
        ]
        report.summarise()
        self._report_batch(len(records), retries, report.counted)
        return responses

    def _run(
        self,
        parsed: list[ParsedRecord],
        groups: list[str] | None,
        deadline: Deadline,
        results: BatchResults,
        pool: ThreadPoolExecutor,
    ) -> None:
        for index, record in enumerate(parsed):
            if not isinstance(record, ShareEvent):
                results.settle(index, record)  # a validation error, whatever happens to the rest
        events = [event for event in parsed if isinstance(event, ShareEvent)]
        read = pool.submit(carry_trace(_obeying(deadline, self.share_service.read_snapshot)), events)
        if not _finished([read], deadline):
            return
        error = read.exception()
        if error is not None:
            for index in range(len(parsed)):
                results.settle(index, UnexpectedError.wrapping(error))
            return
        plan = plan_batch(parsed, read.result(), groups)
        in_lanes = {index for lane in plan.lanes for index in lane}
        for index, step in enumerate(plan.steps):
            if isinstance(step, Known) and index not in in_lanes:
                results.settle(index, step.result)
        self._run_lanes(plan, read.result(), deadline, results, pool, fifo=groups is not None)

    def _run_lanes(
        self,
        plan: BatchPlan,
        snapshot: BatchSnapshot,
        deadline: Deadline,
        results: BatchResults,
        pool: ThreadPoolExecutor,
        *,
        fifo: bool,
    ) -> None:
        runner = LaneRunner(plan, snapshot, self.share_service, results, deadline, fifo)
        run = carry_trace(runner.run)
        lanes = {pool.submit(run, lane): lane for lane in plan.lanes}
        _finished(list(lanes), deadline)
        for future, lane in lanes.items():
            crash = future.exception() if future.done() else None
            if crash is not None:
                for index in lane:
                    results.settle(index, UnexpectedError.wrapping(crash))

    def _report(
        self, record: SQSRecord, parsed: ParsedRecord, result: Result, report: BatchReport
    ) -> tuple[Any, ...]:
        log, traceback = report.next_record(result)
        report.counted.update(
            self.record_handler.report(record, parsed, result, log=log, traceback=traceback)
        )
        if not log:
            report.not_logged(record.get("messageId"), failed=not isinstance(result, Settlement))
        if isinstance(result, Settlement):
            return self.success_handler(record=record.raw_event, result=result.outcome)
        return self.failure_handler(record=record, exception=(type(result), result, result.__traceback__))

    def _report_batch(self, size: int, retries: int, counted: Counter[str]) -> None:
        batch = {
            BATCH_SIZE_METRIC: size,
            SUCCESSFUL_RECORDS_METRIC: len(self.success_messages),
            FAILED_RECORDS_METRIC: len(self.fail_messages),
            TRANSACTION_RETRIES_METRIC: retries,
        }
        for metric_name, value in batch.items():
            count(metric_name, value)
        # Indexed on the handler's subsegment: ``annotation.ProcessingErrors > 0`` finds such batches.
        annotate({**dict.fromkeys(RECORD_METRICS, 0), **counted, **batch})
        if self.fail_messages:
            logger.info(
                "Batch finished with failures",
                extra={"batch_size": size, "failed": len(self.fail_messages), "transaction_retries": retries},
            )

    def _collect_sqs_failures(self) -> list[dict[str, str]]:
        failed_records = cast(list[SQSRecord], self.fail_messages)
        unreportable = [record for record in failed_records if not record.get("messageId")]
        if unreportable:
            logger.error(
                "A failed record has no messageId, so it cannot be reported alone: failing the whole batch",
                extra={"failed_without_message_id": len(unreportable), "batch_size": len(self.records)},
            )
            raise UnreportableFailure(
                f"{len(unreportable)} failed record(s) without messageId; the whole batch must be retried"
            )
        order = {id(raw): position for position, raw in enumerate(self.records)}
        failed = sorted(failed_records, key=lambda record: order.get(id(record.raw_event), 0))
        return [{"itemIdentifier": record.message_id} for record in failed]


def _obeying(
    deadline: Deadline, work: Callable[[list[ShareEvent]], BatchSnapshot]
) -> Callable[[list[ShareEvent]], BatchSnapshot]:
    """``work`` run on a worker thread under ``deadline``, which it checks before it starts."""

    def run(events: list[ShareEvent]) -> BatchSnapshot:
        with budget.obeying(deadline):
            deadline.check("the batch's read")
            return work(events)

    return run


def _finished(futures: Sequence[Future[Any]], deadline: Deadline) -> bool:
    """Wait for ``futures`` until the cutoff; whether they all finished."""
    pending = set(futures)
    while pending:
        left = deadline.seconds_until_cutoff()
        if left <= 0:
            return False
        _, pending = wait(pending, timeout=min(left, CUTOFF_POLL_S))
    return True


def _message_groups(records: list[SQSRecord]) -> list[str] | None:
    """Each record's ``MessageGroupId`` when the batch comes from a FIFO queue, else ``None``."""
    if not any(str(record.get("eventSourceARN") or "").endswith(FIFO_SUFFIX) for record in records):
        return None
    return [str((record.get("attributes") or {}).get("MessageGroupId", "")) for record in records]


def _unfinished(deadline: Deadline) -> DeadlineApproaching:
    remaining = deadline.remaining_ms()
    return DeadlineApproaching(
        f"not finished {remaining} ms before the invocation's deadline: reported for SQS to retry "
        "(a write still in flight is settled as a duplicate on redelivery)",
        remaining_ms=remaining,
    )
