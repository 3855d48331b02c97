"""What a cold start loads and builds: checked by listing modules and settings, not by timing.

``import handler`` runs in a fresh interpreter for each case, since this test process has long
imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from services.bootstrap import CONNECTION_POOL_SIZE, dynamodb_resource
from services.config import DEFAULT_MAX_PARALLEL_RECORDS
from services.telemetry import tracing_enabled

SRC = Path(__file__).resolve().parents[2] / "src"
NOT_ON_THE_HOT_PATH = (
    "aws_xray_sdk",  # only when tracing is on
    "pydantic",  # the Powertools parser; validation is hand-written for this reason
    "aws_lambda_powertools.utilities.parser",
    "services.lambda_context",  # a stand-in for calls without a context, never the case in Lambda
)


def _modules_after_import_handler(**environment: str) -> dict[str, object]:
    probe = (
        "import json, sys, handler\n"
        "patcher = sys.modules.get('aws_xray_sdk.core.patcher')\n"
        "patched = sorted(getattr(patcher, '_PATCHED_MODULES', []))\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'patched': patched}))"
    )
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_SAM"))
    }
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=SRC,
        env={**base, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def _loaded(modules: object, prefix: str) -> bool:
    assert isinstance(modules, list)
    return any(name == prefix or name.startswith(prefix + ".") for name in modules)


def test_import_handler_without_tracing_loads_nothing_off_the_hot_path() -> None:
    loaded = _modules_after_import_handler(POWERTOOLS_TRACE_DISABLED="true")

    assert [prefix for prefix in NOT_ON_THE_HOT_PATH if _loaded(loaded["modules"], prefix)] == []


def test_in_lambda_with_tracing_on_only_botocore_is_patched() -> None:
    loaded = _modules_after_import_handler(LAMBDA_TASK_ROOT=str(SRC))

    assert _loaded(loaded["modules"], "aws_xray_sdk.core")
    assert loaded["patched"] == ["botocore"]
    assert not _loaded(loaded["modules"], "pydantic")


def test_tracing_follows_the_powertools_rule() -> None:
    assert tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task"})
    assert not tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"})
    assert not tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"})
    assert not tracing_enabled({})


def test_connection_pool_holds_every_record_in_flight() -> None:
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
    )

    default = dynamodb_resource(session, max_parallel=DEFAULT_MAX_PARALLEL_RECORDS)
    raised = dynamodb_resource(session, max_parallel=40)

    default_config: Any = default.meta.client.meta.config
    raised_config: Any = raised.meta.client.meta.config
    assert default_config.max_pool_connections == CONNECTION_POOL_SIZE >= DEFAULT_MAX_PARALLEL_RECORDS
    assert raised_config.max_pool_connections == 40
