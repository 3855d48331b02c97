"""Fixtures of the reliability tests: the fault proxy and the handler pointed through it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from local_runtime.aws.embedded_aws import EmbeddedAws
from testkit.faults import FaultProxy, fault_proxy

BIG_PROFILE = "reliability-big"
settings.register_profile(
    BIG_PROFILE,
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""``make reliability`` runs the property tests under this profile (``--hypothesis-profile``)."""


@pytest.fixture
def proxy(aws: EmbeddedAws) -> Iterator[FaultProxy]:
    """A fault proxy in front of the embedded server; it injects nothing until told to."""
    with fault_proxy(aws.endpoint_url) as running:
        yield running


@pytest.fixture
def handler_behind_proxy(handler_module: Any, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``handler`` whose worker, built the production way (``RETRY_CONFIG``), goes through ``proxy``."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
    handler_module.worker.cache_clear()
    return handler_module
