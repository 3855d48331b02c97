"""Lambda entry point: Powertools wiring around the share batch processor.

The worker is built on the first invocation and reused by the container afterwards.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from services.bootstrap import Worker, build_worker
from services.telemetry import capture_lambda_handler, logger, metrics


@cache
def worker() -> Worker:
    return build_worker()


def lambda_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """SQS batch in, ``{"batchItemFailures": [...]}`` out; ``context`` may be ``None`` in tests."""
    response: dict[str, Any] = handle_share_batch(event, context if context is not None else _local_context())
    return response


def _local_context() -> object:
    """Imported only here: inside Lambda a context always comes with the event."""
    from services.lambda_context import LocalLambdaContext

    return LocalLambdaContext()


@logger.inject_lambda_context(clear_state=True)
@capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handle_share_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    processor = worker().processor
    return dict(
        process_partial_response(
            event=event, record_handler=processor.record_handler.parse, processor=processor, context=context
        )
    )
