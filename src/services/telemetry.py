"""Powertools logger, metrics and tracing shared by the handler and the services.

Powertools instances with the same service share their state, so these are the same objects
``handler.py`` decorates with. Namespace and service default to the design's values when the
``POWERTOOLS_*`` variables are not set (unit tests, scripts).
"""

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ShareWorker")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Wdrbe")
TRACED_MODULES = ("botocore",)
TRUTHY = frozenset({"1", "y", "yes", "t", "true", "on"})

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

_metrics_lock = threading.Lock()

Handler = TypeVar("Handler", bound=Callable[..., Any])
Params = ParamSpec("Params")
Result = TypeVar("Result")
Annotation = str | int | bool


def count(metric_name: str, value: int = 1) -> None:
    """Add a Count metric; records of one batch run on several threads, hence the lock."""
    with _metrics_lock:
        metrics.add_metric(name=metric_name, unit=MetricUnit.Count, value=value)


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own rule: X-Ray tracing runs in Lambda unless ``POWERTOOLS_TRACE_DISABLED`` is true."""
    in_lambda = bool(environ.get("LAMBDA_TASK_ROOT")) and not environ.get("AWS_SAM_LOCAL")
    return in_lambda and environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() not in TRUTHY


@cache
def tracer() -> Tracer | None:
    """The one Tracer of the process when tracing is on, else ``None``.

    Building a ``Tracer`` imports the X-Ray SDK even when tracing is off, and outside Lambda its
    recorder also creates botocore X-Ray clients for sampling rules: about 0.2 s of every local cold
    start spent on nothing. So a Tracer exists only when it traces, and it patches botocore alone (one
    subsegment per DynamoDB call) rather than every library the SDK knows how to patch.
    """
    if not tracing_enabled():
        return None
    return Tracer(service=SERVICE, patch_modules=TRACED_MODULES)


def capture_lambda_handler(handler: Handler) -> Handler:
    """The Tracer's ``capture_lambda_handler`` when tracing is on, otherwise ``handler`` unchanged."""
    active = tracer()
    return handler if active is None else cast(Handler, active.capture_lambda_handler(handler))


def carry_trace(work: Callable[Params, Result]) -> Callable[Params, Result]:
    """``work``, to run on another thread under the trace entity that is current here and now.

    The X-Ray SDK keeps the current segment per thread; in Lambda a thread that has none builds a
    fresh one from ``_X_AMZN_TRACE_ID``, so a DynamoDB call on a worker thread would sit beside the
    handler's subsegment instead of under it. Powertools offers no helper for threads.
    """
    active = tracer()
    if active is None:
        return work
    # The X-Ray SDK's recorder: Powertools types it as its BaseProvider, which has no context methods.
    recorder: Any = active.provider
    parent = recorder.get_trace_entity()

    @wraps(work)
    def under_parent(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        recorder.set_trace_entity(parent)
        try:
            return work(*args, **kwargs)
        finally:
            recorder.clear_trace_entities()

    return under_parent


def close_abandoned_subsegments() -> None:
    """Close what worker threads left open under the current entity (the handler's subsegment), marked
    ``abandoned`` and as a fault: the X-Ray SDK sends no subsegment with an open child, so a thread still
    in a request at the cutoff would otherwise cost the handler's subsegment and its annotations."""
    active = tracer()
    if active is None:
        return
    from aws_xray_sdk.core.exceptions.exceptions import AlreadyEndedException

    recorder: Any = active.provider
    for subsegment in _open_below(recorder.get_trace_entity()):
        try:
            subsegment.put_annotation("abandoned", True)
            subsegment.add_fault_flag()
            subsegment.close()
        except AlreadyEndedException:  # its thread closed it meanwhile
            continue


def _open_below(entity: Any) -> list[Any]:
    """The open subsegments under ``entity``, the deepest first."""
    found: list[Any] = []
    for child in list(getattr(entity, "subsegments", [])):
        found += _open_below(child)
        if child.in_progress:
            found.append(child)
    return found


class TraceNotes:
    """Metadata for the subsegment of :func:`traced` (not indexed: read in the trace's details)."""

    def __init__(self, subsegment: Any) -> None:
        self._subsegment = subsegment

    def metadata(self, **values: Any) -> None:
        for key, value in values.items():
            self._subsegment.put_metadata(key, value, SERVICE)


@contextmanager
def traced(name: str, annotations: Mapping[str, Annotation]) -> Iterator[TraceNotes | None]:
    """A subsegment ``name`` around the block, with ``annotations`` (indexed: ``annotation.item_id =
    "..."`` finds it); yields its :class:`TraceNotes`, or ``None`` when tracing is off."""
    active = tracer()
    if active is None:
        yield None
        return
    with active.provider.in_subsegment(name) as subsegment:
        for key, value in annotations.items():
            subsegment.put_annotation(key, cast(Any, value))
        yield TraceNotes(subsegment)


def annotate(annotations: Mapping[str, Annotation]) -> None:
    """Annotate the current trace entity (the handler's subsegment, on the handler's thread)."""
    active = tracer()
    if active is None:
        return
    for key, value in annotations.items():
        active.put_annotation(key, cast(Any, value))
