"""Powertools' SQS ``BatchProcessor`` with the batch-level steps a share batch needs.

Powertools hands records to a handler one at a time. This subclass keeps its bookkeeping
(success and failure lists, the ``batchItemFailures`` response) and adds, around it:

* one shared read snapshot for the whole batch (see :mod:`services.batch_reads`);
* records of different items run in parallel, records of one item in their queue order, so they
  never conflict with each other and a later share sees the effect of an earlier one;
* a deadline guard: once the invocation's remaining time drops below the margin, records not yet
  started are failed untouched, so the invocation still answers with its partial batch response
  (a Lambda timeout would discard it and SQS would redeliver the whole batch). A record already
  started may still overrun: the margin does not cover an SDK call's worst case of retries;
* a clear whole-batch failure when a record without ``messageId`` fails, since SQS cannot be
  told to retry just that record.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.batch_reads import BatchReads
from services.errors import DeadlineApproaching, UnreportableFailure
from services.outcomes import BATCH_SIZE_METRIC, FAILED_RECORDS_METRIC, SUCCESSFUL_RECORDS_METRIC
from services.record_handler import ParsedRecord, ShareRecordHandler
from services.share_event import ShareEvent
from services.telemetry import count, logger


class ShareBatchProcessor(BatchProcessor):
    def __init__(
        self, record_handler: ShareRecordHandler, *, max_parallel: int, deadline_margin_ms: int
    ) -> None:
        # A batch whose records all failed is reported record by record like any other, instead of
        # Powertools raising: Lambda's Errors metric stays for real crashes. SQS retries the same way.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.record_handler = record_handler
        self.max_parallel = max_parallel
        self.deadline_margin_ms = deadline_margin_ms

    def process(self) -> list[tuple[Any, ...]]:
        records = [SQSRecord(raw) for raw in self.records]
        parsed = [self.record_handler.parse(record) for record in records]
        reads = self.record_handler.reads_for(parsed)
        results: list[tuple[Any, ...] | None] = [None] * len(records)

        def run_in_order(indices: list[int]) -> None:
            for index in indices:
                results[index] = self._process_one(records[index], parsed[index], reads)

        groups = _groups_by_item(parsed)
        if len(groups) == 1 or self.max_parallel == 1:
            for indices in groups:
                run_in_order(indices)
        else:
            with ThreadPoolExecutor(max_workers=min(self.max_parallel, len(groups))) as pool:
                list(pool.map(run_in_order, groups))
        self._report_batch(len(records))
        return [result for result in results if result is not None]

    def _process_one(self, record: SQSRecord, parsed: ParsedRecord, reads: BatchReads) -> tuple[Any, ...]:
        if self._remaining_ms() < self.deadline_margin_ms:
            logger.warning(
                "Too little invocation time left: record left untouched for SQS to retry",
                extra={"message_id": record.get("messageId"), "remaining_ms": self._remaining_ms()},
            )
            error = DeadlineApproaching(f"less than {self.deadline_margin_ms} ms of invocation time left")
            return self.failure_handler(record=record, exception=(type(error), error, None))
        try:
            outcome = self.record_handler.handle(record, parsed, reads)
        except Exception:  # noqa: BLE001 - any failure of one record is reported for that record alone
            return self.failure_handler(record=record, exception=sys.exc_info())
        return self.success_handler(record=record.raw_event, result=outcome)

    def _remaining_ms(self) -> int:
        context = getattr(self, "lambda_context", None)
        return int(context.get_remaining_time_in_millis()) if context is not None else sys.maxsize

    def _report_batch(self, size: int) -> None:
        count(BATCH_SIZE_METRIC, size)
        count(SUCCESSFUL_RECORDS_METRIC, len(self.success_messages))
        count(FAILED_RECORDS_METRIC, len(self.fail_messages))
        if self.fail_messages:
            logger.info(
                "Batch finished with failures",
                extra={"batch_size": size, "failed": len(self.fail_messages)},
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


def _groups_by_item(parsed: list[ParsedRecord]) -> list[list[int]]:
    """Record positions grouped by item, each group in queue order; invalid records stand alone."""
    groups: dict[object, list[int]] = defaultdict(list)
    for index, event in enumerate(parsed):
        groups[event.item_id if isinstance(event, ShareEvent) else ("invalid", index)].append(index)
    return list(groups.values())
