"""The code asset without Docker: pip fetches the function platform's wheels, then ``src/`` goes on top."""

from __future__ import annotations

import functools
import hashlib
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from infra import share_worker
from infra.bundling import PipBundling, Runner
from infra.share_worker import SOURCE
from local_runtime.stack.template import FUNCTION_ID
from tests.infra.conftest import synthesize


def test_pip_fetches_only_wheels_for_lambda_s_arm64_python_3_12(tmp_path: Path) -> None:
    command = PipBundling(SOURCE, "python3.12", "arm64").pip_command(str(tmp_path))

    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    options = " ".join(command[4:])
    assert f"--target {tmp_path}" in options
    assert "--platform manylinux2014_aarch64 --implementation cp --python-version 3.12" in options
    assert "--only-binary=:all:" in options
    assert f"--requirement {SOURCE / 'requirements.txt'}" in options


def test_bundling_runs_pip_then_copies_src_without_caches(tmp_path: Path) -> None:
    ran: list[Sequence[str]] = []
    bundling = PipBundling(SOURCE, "python3.12", "arm64", run=ran.append)

    assert bundling.try_bundle(str(tmp_path), None)  # jsii passes the BundlingOptions

    assert ran == [bundling.pip_command(str(tmp_path))]
    assert (tmp_path / "handler.py").read_text() == (SOURCE / "handler.py").read_text()
    assert sorted(path.name for path in (tmp_path / "services").glob("*.py")) == sorted(
        path.name for path in (SOURCE / "services").glob("*.py")
    )
    assert not list(tmp_path.rglob("__pycache__"))


def test_a_runtime_without_wheels_to_fetch_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no wheels to build for runtime 'nodejs20\.x' on 'arm64'"):
        PipBundling(SOURCE, "nodejs20.x", "arm64")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of ``src/`` without bytecode."""
    copy = tmp_path / "src"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


def leave_bytecode(source: Path) -> None:
    """What importing the code leaves: a ``__pycache__`` per package, and a stray ``.pyc``."""
    (source / "services" / "__pycache__").mkdir()
    (source / "services" / "__pycache__" / "keys.cpython-312.pyc").write_bytes(b"\x00compiled")
    (source / "handler.pyc").write_bytes(b"\x00compiled")


def pip_offline(command: Sequence[str]) -> None:
    """Stands in for pip: a dependency in the target folder, as ``pip install --target`` leaves it."""
    target = Path(command[command.index("--target") + 1])
    (target / "boto3").mkdir(parents=True, exist_ok=True)
    (target / "boto3" / "__init__.py").write_text("# a dependency\n")


def pip_run_by(python: str) -> Runner:
    """Stands in for pip run by ``python``: a dependency with a console script, as pip installs jmespath
    (its ``jp.py`` begins with the path of the Python that ran pip, and its ``RECORD`` holds its hash)."""

    def install(command: Sequence[str]) -> None:
        target = Path(command[command.index("--target") + 1])
        script = f"#!{python}\nimport jmespath\n"
        (target / "bin").mkdir(parents=True, exist_ok=True)
        (target / "bin" / "jp.py").write_text(script)
        (target / "jmespath").mkdir(exist_ok=True)
        (target / "jmespath" / "__init__.py").write_text("# a dependency\n")
        (target / "jmespath-1.1.0.dist-info").mkdir(exist_ok=True)
        (target / "jmespath-1.1.0.dist-info" / "RECORD").write_text(
            f"../../bin/jp.py,sha256={hashlib.sha256(script.encode()).hexdigest()},{len(script)}\n"
            "jmespath/__init__.py,sha256=0,15\n"
            "jmespath-1.1.0.dist-info/RECORD,,\n"
        )

    return install


def code_key(
    source: Path, monkeypatch: pytest.MonkeyPatch, *, bundled: bool = True, pip: Runner = pip_offline
) -> str:
    """The S3 key of the function's code, synthesized from ``source`` (bundled with ``pip``)."""
    monkeypatch.setattr(share_worker, "SOURCE", source)
    monkeypatch.setattr(share_worker, "PipBundling", functools.partial(PipBundling, run=pip))
    document = synthesize(
        lambda stack: share_worker.ShareWorker(stack, "ShareWorker"), bundled=bundled
    ).document
    return str(document["Resources"][FUNCTION_ID]["Properties"]["CodeUri"]["Key"])


def test_the_code_s_key_is_the_hash_of_what_is_uploaded(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same bundle, same key (nothing uploaded again); other code, another key; and a synth that skips
    bundling (``src/`` without its dependencies) never gets the key of the real bundle, whose upload
    a deploy would then skip."""
    bundled = code_key(source, monkeypatch)
    again = code_key(source, monkeypatch)
    skipped = code_key(source, monkeypatch, bundled=False)
    (source / "handler.py").write_text((source / "handler.py").read_text() + "\n# changed\n")
    changed = code_key(source, monkeypatch)

    assert again == bundled
    assert skipped != bundled
    assert changed != bundled


def test_bytecode_beside_the_source_changes_neither_the_asset_nor_its_hash(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = code_key(source, monkeypatch)
    leave_bytecode(source)

    assert code_key(source, monkeypatch) == clean


def test_bundling_copies_no_bytecode(source: Path, tmp_path: Path) -> None:
    leave_bytecode(source)
    output = tmp_path / "asset"

    PipBundling(source, "python3.12", "arm64", run=lambda command: None).try_bundle(str(output), None)

    assert (output / "handler.py").exists()
    assert not list(output.rglob("__pycache__")) and not list(output.rglob("*.pyc"))


def test_the_code_s_key_is_the_same_whichever_python_path_ran_pip(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another checkout, venv or machine builds the same bundle for the same code: nothing uploaded again."""
    assert code_key(source, monkeypatch, pip=pip_run_by("/work/main/.venv/bin/python")) == code_key(
        source, monkeypatch, pip=pip_run_by("/tmp/elsewhere/venv/bin/python")
    )


def test_bundling_ships_no_console_scripts_and_no_record_of_them(source: Path, tmp_path: Path) -> None:
    output = tmp_path / "asset"

    PipBundling(source, "python3.12", "arm64", run=pip_run_by(sys.executable)).try_bundle(str(output), None)

    assert not (output / "bin").exists()
    assert (output / "jmespath-1.1.0.dist-info" / "RECORD").read_text() == (
        "jmespath/__init__.py,sha256=0,15\njmespath-1.1.0.dist-info/RECORD,,\n"
    )
    assert (output / "jmespath" / "__init__.py").exists() and (output / "handler.py").exists()
