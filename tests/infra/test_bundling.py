"""The code asset without Docker: pip fetches the function platform's wheels, then ``src/`` goes on top."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from infra.bundling import PipBundling
from infra.share_worker import SOURCE


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
