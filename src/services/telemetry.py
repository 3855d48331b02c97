"""Powertools logger, metrics and tracer shared by the handler and the services.

Powertools instances with the same service share their state, so these are the same objects
``handler.py`` decorates with. Namespace and service default to the design's values when the
``POWERTOOLS_*`` variables are not set (unit tests, scripts).
"""

import os
import threading

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ShareWorker")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Wdrbe")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)

_metrics_lock = threading.Lock()


def count(metric_name: str, value: int = 1) -> None:
    """Add a Count metric; records of one batch run on several threads, hence the lock."""
    with _metrics_lock:
        metrics.add_metric(name=metric_name, unit=MetricUnit.Count, value=value)
