"""``infra/app.py``: the product owner's stack, synthesized offline into a cloud assembly.

Built in this process with the app's own ``build_app`` (a second Python and Node.js for
``python infra/app.py`` would cost about 10 s of the suite; its ``__main__`` line only calls it).
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App

from infra.app import STACK_NAME, build_app
from local_runtime.template import FUNCTION_ID
from tests.infra.conftest import SKIP_BUNDLING


def test_the_app_synthesizes_the_worker_on_the_app_s_table(tmp_path: Path) -> None:
    build_app(App(outdir=str(tmp_path), context=SKIP_BUNDLING)).synth()

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    template = json.loads((tmp_path / f"{STACK_NAME}.template.json").read_text())
    assert manifest["artifacts"][STACK_NAME]["type"] == "aws:cloudformation:stack"
    tables = [
        logical_id for logical_id, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"
    ]
    assert len(tables) == 1 and tables[0].startswith("AppTable")
    function = template["Resources"][FUNCTION_ID]["Properties"]
    assert function["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": tables[0]}
    assert function["Events"]["ShareEvents"]["Properties"]["BatchSize"] == 20
