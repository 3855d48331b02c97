"""``python infra/app.py`` synthesizes the product owner's stack offline into a cloud assembly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.app import STACK_NAME
from local_runtime.template import FUNCTION_ID
from tests.infra.conftest import SKIP_BUNDLING

APP = Path(__file__).resolve().parents[2] / "infra" / "app.py"


def test_the_app_synthesizes_the_worker_on_the_app_s_table(tmp_path: Path) -> None:
    environment = {**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps(SKIP_BUNDLING)}

    subprocess.run([sys.executable, str(APP)], env=environment, check=True, capture_output=True)

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    template = json.loads((tmp_path / f"{STACK_NAME}.template.json").read_text())
    assert manifest["artifacts"][STACK_NAME]["type"] == "aws:cloudformation:stack"
    tables = [
        logical_id for logical_id, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"
    ]
    assert [logical_id for logical_id in tables if logical_id.startswith("AppTable")] == tables != []
    function = template["Resources"][FUNCTION_ID]["Properties"]
    assert function["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": tables[0]}
    assert function["Events"]["ShareEvents"]["Properties"]["BatchSize"] == 20
