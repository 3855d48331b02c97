"""The function's code asset, built without Docker: ``src/`` and its pinned requirements, as Lambda has them.

CDK's usual Python bundling runs ``pip`` inside a Docker image of the Lambda runtime. Everything the
worker needs ships as pure-Python or ``manylinux`` wheels, so pip on the build machine can fetch the
wheels of the function's platform instead (``--platform manylinux2014_aarch64 --only-binary=:all:``):
no Docker, no compiler, the same packages Lambda would get. pip needs a package index it can reach
for that (its cache alone does not do: its copies of the index's pages expire after minutes); when
it cannot, bundling fails with pip's own reason in one line (:class:`BundlingFailed`), which
``infra/app.py`` prints with the way to synthesize without bundling. The offline tests skip bundling
altogether with CDK's own switch, the ``aws:cdk:bundling-stacks`` context set to ``[]`` (see
``tests/infra``).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, ILocalBundling

PLATFORM_OF_ARCHITECTURE = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}

Runner = Callable[[Sequence[str]], Any]


NO_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}
"""CDK's context that bundles no stack's assets."""
PIP_FAILED = "pip could not install"
SCRIPTS = "bin"
"""Where ``pip install --target`` puts the console scripts of the dependencies (jmespath's ``jp.py``):
Lambda runs none, and each names the Python that built the bundle in its first line, which would
make the asset's hash (its S3 key) depend on the path of that Python."""
SCRIPT_IN_RECORD = re.compile(rf"(\.\./)+{SCRIPTS}/")
"""A script's path in a ``RECORD``: relative to the library folder, so outside it."""
BYTECODE = ("__pycache__", "*.pyc")
"""What importing ``src/`` leaves beside it (tests do, through the venv's path): not shipped, and so
not part of the asset's hash (the bundle's), or the same code would be uploaded again as a new version."""


class BundlingFailed(Exception):
    """pip could not install the requirements; the message, on one line, begins with :data:`PIP_FAILED`
    (jsii hands it on inside an error of its own)."""


def run_checked(command: Sequence[str]) -> None:
    """Runs pip, its output kept back; if it fails, :class:`BundlingFailed` with its last error line."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (pip, arguments built here)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        errors = (
            [line for line in lines if line.startswith("ERROR:")]
            or lines
            or [f"exit status {done.returncode}"]
        )
        raise BundlingFailed(f"{PIP_FAILED} {command[-1]}: {errors[-1]}")


@jsii.implements(ILocalBundling)
class PipBundling:
    """Local bundling for ``aws_cdk.BundlingOptions(local=...)``: never falls back to Docker."""

    def __init__(self, source: Path, runtime: str, architecture: str, run: Runner = run_checked) -> None:
        if not runtime.startswith("python") or architecture not in PLATFORM_OF_ARCHITECTURE:
            raise ValueError(f"no wheels to build for runtime {runtime!r} on {architecture!r}")
        self.source = source
        self.python_version = runtime.removeprefix("python")
        self.platform = PLATFORM_OF_ARCHITECTURE[architecture]
        self.run = run

    def pip_command(self, output_dir: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            output_dir,
            "--platform",
            self.platform,
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
            "--requirement",
            str(self.source / "requirements.txt"),
        ]

    def try_bundle(self, output_dir: str, _options: BundlingOptions) -> bool:
        """The requirements' wheels for the function's platform, then ``src/`` itself on top.

        jsii calls it with the ``BundlingOptions`` as one positional argument.
        """
        self.run(self.pip_command(output_dir))
        drop_scripts(Path(output_dir))
        shutil.copytree(self.source, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*BYTECODE))
        return True


def drop_scripts(target: Path) -> None:
    """Removes :data:`SCRIPTS` from what pip installed into ``target``, and their lines from the
    ``RECORD`` of each distribution (which holds each script's hash), so that the bundle is the same
    whichever Python built it. pip writes a script's path relative to the library folder of the
    install scheme it uses for ``--target``, ``../../bin/jp.py``."""
    shutil.rmtree(target / SCRIPTS, ignore_errors=True)
    for record in target.glob("*.dist-info/RECORD"):
        lines = record.read_text().splitlines(keepends=True)
        kept = [line for line in lines if not _names_a_script(line)]
        if kept != lines:
            record.write_text("".join(kept))


def _names_a_script(record_line: str) -> bool:
    fields = next(csv.reader([record_line]), None) or [""]
    return SCRIPT_IN_RECORD.match(fields[0]) is not None
