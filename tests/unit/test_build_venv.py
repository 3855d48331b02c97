"""``scripts/build-venv``, which the Makefile builds both environments with: two first-time commands at
once, and an environment left half-made. Offline: the package installed is a wheel made here."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

BUILD_VENV = Path(__file__).resolve().parents[2] / "scripts" / "build-venv"
OFFLINE = {**os.environ, "PIP_NO_INDEX": "1"}


def tiny_wheel(folder: Path) -> Path:
    """A wheel of one module, ``tiny``, written by hand so no build backend has to be downloaded."""
    wheel = folder / "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tiny.py", "ANSWER = 42\n")
        archive.writestr("tiny-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n")
        archive.writestr(
            "tiny-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr("tiny-1.0.dist-info/RECORD", "")
    return wheel


def build(venv: Path, wheel: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BUILD_VENV), str(venv), str(venv / ".installed"), str(wheel), "--", str(wheel)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=OFFLINE,
    )


def imports_tiny(venv: Path) -> bool:
    probe = [str(venv / "bin" / "python"), "-c", "import tiny; assert tiny.ANSWER == 42"]
    return subprocess.run(probe, check=False).returncode == 0


def test_two_builds_at_once_build_the_environment_once(tmp_path: Path) -> None:
    wheel, venv = tiny_wheel(tmp_path), tmp_path / "venv"
    first, second = build(venv, wheel), build(venv, wheel)
    outputs = [process.communicate(timeout=300)[0] for process in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert sum(output.count("creating") for output in outputs) == 1, outputs
    assert imports_tiny(venv)


def test_a_half_made_environment_is_built_again(tmp_path: Path) -> None:
    wheel, venv = tiny_wheel(tmp_path), tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)

    process = build(venv, wheel)
    output = process.communicate(timeout=300)[0]

    assert process.returncode == 0, output
    assert "creating" in output
    assert imports_tiny(venv)


def test_an_up_to_date_environment_is_left_alone(tmp_path: Path) -> None:
    wheel, venv = tiny_wheel(tmp_path), tmp_path / "venv"
    assert build(venv, wheel).wait(timeout=300) == 0

    again = build(venv, wheel)
    output = again.communicate(timeout=300)[0]

    assert again.returncode == 0
    assert output == ""
