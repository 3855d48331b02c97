"""Powertools logger, metrics and tracing shared by the handler and the services.

Powertools instances with the same service share their state, so these are the same objects
``handler.py`` decorates with. Namespace and service default to the design's values when the
``POWERTOOLS_*`` variables are not set (unit tests, scripts).
"""

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

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


def count(metric_name: str, value: int = 1) -> None:
    """Add a Count metric; records of one batch run on several threads, hence the lock."""
    with _metrics_lock:
        metrics.add_metric(name=metric_name, unit=MetricUnit.Count, value=value)


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own rule: X-Ray tracing runs in Lambda unless ``POWERTOOLS_TRACE_DISABLED`` is true."""
    in_lambda = bool(environ.get("LAMBDA_TASK_ROOT")) and not environ.get("AWS_SAM_LOCAL")
    return in_lambda and environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() not in TRUTHY


def capture_lambda_handler(handler: Handler) -> Handler:
    """The Tracer's ``capture_lambda_handler`` when tracing is on, otherwise ``handler`` unchanged.

    Building a ``Tracer`` imports the X-Ray SDK even when tracing is off, and outside Lambda its
    recorder also creates botocore X-Ray clients for sampling rules: about 0.2 s of every local cold
    start spent on nothing. So a Tracer exists only when it traces, and it patches botocore alone (one
    subsegment per DynamoDB call) rather than every library the SDK knows how to patch.
    """
    if not tracing_enabled():
        return handler
    tracer = Tracer(service=SERVICE, patch_modules=TRACED_MODULES)
    return cast(Handler, tracer.capture_lambda_handler(handler))
