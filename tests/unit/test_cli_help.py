"""Every ``share-worker`` command answers ``--help`` (exit 0, a usage line), with no AWS needed."""

from __future__ import annotations

import pytest

from local_runtime.cli.main import main

COMMANDS = [
    [],
    ["serve"],
    ["provision"],
    ["publish"],
    ["run"],
    ["dlq"],
    ["dlq", "inspect"],
    ["dlq", "redrive"],
    ["show"],
    ["show", "item"],
    ["show", "feed"],
    ["check-table"],
    ["audit"],
    ["invoke"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "share-worker")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: share-worker {' '.join(command)}".rstrip())


def test_a_bad_parameter_override_is_refused_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--param", "MaxReceiveCount", "dlq", "inspect"])

    assert exit_.value.code == 2
    assert "expected NAME=VALUE, got 'MaxReceiveCount'" in capsys.readouterr().err


def test_a_batch_size_below_one_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--batch-size", "0"])

    assert exit_.value.code == 2
    assert "--batch-size: must be at least 1, got 0" in capsys.readouterr().err


def test_run_refuses_values_the_template_refuses_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["--param", "BatchSize=20", "--param", "MaximumBatchingWindowInSeconds=0", "run"])

    assert status == 1
    assert capsys.readouterr().err.startswith(
        "share-worker: rule BatchSizeAboveTen: BatchSize above 10 needs MaximumBatchingWindowInSeconds"
    )


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 configured for a closed port on 127.0.0.1: a command that gets as far as calling AWS fails
    there, and nothing leaves the machine."""
    for name, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("nowhere")
@pytest.mark.parametrize("command", [["run"], ["provision"]])
def test_a_stack_name_too_long_for_the_template_s_names_is_refused_before_anything_runs(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--stack", "w" * 52, *command])

    assert status == 1
    assert capsys.readouterr().err.startswith(
        f"share-worker: stack name {'w' * 52!r} has 52 characters, and the names the template derives "
        "from it allow 51: the FunctionName of ShareWorkerLambda"
    )


@pytest.mark.usefixtures("nowhere")
def test_check_table_refuses_a_stack_name_the_deployment_refuses_before_reading_any_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Otherwise it could approve a table for values that never deploy."""
    status = main(["--stack", "w" * 52, "check-table"])

    assert status == 1
    assert capsys.readouterr().err.startswith(
        "share-worker: stack name 'wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww' has 52 characters"
    )


@pytest.mark.usefixtures("nowhere")
def test_check_table_refuses_a_value_the_parameter_refuses_as_an_argument_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "--param",
                "ExistingTableName=arn:aws:dynamodb:us-east-1:123456789012:table/t-good",
                "check-table",
            ]
        )

    assert exit_.value.code == 2
    assert (
        "share-worker: error: argument --param: parameter ExistingTableName must be empty, or a DynamoDB "
        "table name" in capsys.readouterr().err
    )
