"""The README's Python-shell snippet, pasted into ``.venv/bin/python`` the way a reader would."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Running one test event"
SHELL_DEADLINE_S = 120


def shell_snippet() -> str:
    section = README.read_text().split(SECTION, 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, f"no Python block under {SECTION!r}"
    return found.group(1)


def test_the_readme_s_shell_snippet_runs_when_pasted_into_the_python_shell(tmp_path: Path) -> None:
    """``-i`` reads stdin as the interactive shell does, line by line: a blank line inside an
    indented block ends it there and the rest fails with an IndentationError."""
    done = subprocess.run(
        [sys.executable, "-i", "-q"],
        input=shell_snippet() + "\n",  # the Enter that ends the block
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=SHELL_DEADLINE_S,
        check=False,
    )

    assert "Error" not in done.stderr, done.stderr
    assert "{'batchItemFailures': []}" in done.stdout
