"""``make run``'s arguments are checked before the embedded server starts."""

from __future__ import annotations

import pytest

from local_runtime.cli import demo


def test_make_run_with_an_invalid_table_name_ends_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        demo.main(["--existing-table", "ab"])

    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "python -m local_runtime.cli.demo: parameter ExistingTableName must be empty, or a DynamoDB table "
        "name (3-255 of a-z A-Z 0-9 _ . -), got 'ab'\n"
    )
