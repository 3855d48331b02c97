"""How ``dlq redrive`` waits for its message move task (SQS stubbed: the embedded server's tasks are
tested in tests/integration/test_message_moves.py)."""

from __future__ import annotations

from typing import Any

import pytest

from local_runtime.cli import dlq

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:stack-share-events-dlq"


class ListedTasks:
    """``list_message_move_tasks`` answering each listing in turn, the last one for ever after."""

    def __init__(self, *listings: list[dict[str, Any]]) -> None:
        self.listings = list(listings)
        self.calls = 0

    def list_message_move_tasks(self, SourceArn: str, MaxResults: int) -> dict[str, Any]:
        self.calls += 1
        return {"Results": self.listings.pop(0) if len(self.listings) > 1 else self.listings[0]}


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlq, "MOVE_POLL_S", 0)


def test_a_task_not_listed_yet_is_waited_for_until_it_completes() -> None:
    running = {"Status": "RUNNING", "TaskHandle": "t-1", "ApproximateNumberOfMessagesMoved": 1}
    completed = {
        "Status": "COMPLETED",
        "ApproximateNumberOfMessagesMoved": 3,
        "ApproximateNumberOfMessagesToMove": 3,
    }
    sqs = ListedTasks([], [running], [completed])

    result = dlq._wait_for_move(sqs, DLQ_ARN, "t-1")  # type: ignore[arg-type]

    assert (result.method, result.moved, result.failed, sqs.calls) == (dlq.RedriveMethod.MOVE_TASK, 3, 0, 3)


def test_a_task_that_outlasts_the_wait_is_reported_still_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlq, "MOVE_WAIT_S", -1)

    with pytest.raises(dlq.MoveTaskStillRunning, match="list-message-move-tasks --source-arn " + DLQ_ARN):
        dlq._wait_for_move(ListedTasks([{"Status": "RUNNING"}]), DLQ_ARN, "t-1")  # type: ignore[arg-type]
