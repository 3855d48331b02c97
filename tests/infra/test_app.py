"""``infra/app.py``: the product owner's stack, synthesized offline into a cloud assembly.

Built in this process with the app's own ``build_app`` and ``main`` (a second Python and Node.js for
``python infra/app.py`` would cost about 10 s of the suite; its ``__main__`` line only calls ``main``).
Node.js reads its environment once, when jsii starts it, so the CLI's context is given as the
``App``'s; pip, run from Python for bundling, sees this process's environment (``PIP_NO_INDEX``: pip
contacts no index, as on a machine without network).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App

from infra.app import SKIP_BUNDLING_VARIABLE, STACK_NAME, build_app, bundling_switch, main
from infra.bundling import NO_BUNDLING
from local_runtime.stack.template import FUNCTION_ID


def test_the_app_synthesizes_the_worker_on_the_app_s_table(tmp_path: Path) -> None:
    build_app(App(outdir=str(tmp_path), context=NO_BUNDLING)).synth()

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


def test_offline_a_failed_bundling_ends_with_one_line_saying_what_failed_and_what_to_do_and_no_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")

    with pytest.raises(SystemExit) as exit_:
        main(App(outdir=str(tmp_path)))

    message = str(exit_.value.code)
    assert message.startswith(
        "infra/app.py: bundling the worker's code failed (pip could not install "
        f"{Path('src/requirements.txt').resolve()}: ERROR: No matching distribution found for "
    )
    assert message.endswith(
        "); to synthesize the template without it (not for deploying): SHARE_WORKER_SKIP_BUNDLING=1"
    )
    assert "\n" not in message
    assert not list(tmp_path.glob("bundling-temp-*"))  # the CDK's folder for the failed bundling


def test_the_skip_variable_wins_over_the_context_the_cdk_cli_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # bundling would fail
    cli_context = {"aws:cdk:bundling-stacks": ["**"]}  # what `cdk synth` sets: bundle every stack

    main(
        App(
            outdir=str(tmp_path),
            context=cli_context,
            post_cli_context=bundling_switch({SKIP_BUNDLING_VARIABLE: "1"}),
        )
    )

    assert (tmp_path / f"{STACK_NAME}.template.json").exists()
    assert bundling_switch({}) is None
