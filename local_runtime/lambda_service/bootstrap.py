"""The program inside one local execution environment: ``python -m local_runtime.lambda_service.bootstrap``.

It plays the Lambda runtime's part. It imports the handler named by ``_HANDLER`` once (the cold
start), then reads invocations from standard input, one JSON line each, with what the Runtime API
hands a runtime (``requestId``, ``deadlineMs``, ``invokedFunctionArn``, ``event``), and answers
each with one JSON line on the standard output it started with. What the handler itself prints
(Powertools' JSON logs and EMF metrics) goes to a file instead and is sent back with the answer,
the way Lambda ships it to CloudWatch Logs.

It imports nothing but the standard library, ``services.lambda_context`` and the handler, so a
cold start costs what the function's own imports cost.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from services.lambda_context import LocalLambdaContext


@dataclass
class InvocationContext(LocalLambdaContext):
    """A Lambda context whose remaining time counts down to the invocation's deadline."""

    deadline_ms: int = 0
    counts_down: ClassVar[bool] = True
    log_group_name: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""))
    log_stream_name: str = field(default_factory=lambda: os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


class CapturedOutput:
    """File descriptor 1 redirected to a temporary file, read back once per invocation.

    Redirecting the descriptor, not ``sys.stdout``, catches every writer, including a log handler
    that keeps the stream object it was created with.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open for the life of the process
        os.dup2(self._file.fileno(), sys.stdout.fileno())

    def take(self) -> str:
        sys.stdout.flush()
        self._file.seek(0)
        text = self._file.read().decode(errors="replace")
        self._file.seek(0)
        self._file.truncate()
        return text


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    output = CapturedOutput()
    try:
        module_name, _, attribute = os.environ["_HANDLER"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception:  # noqa: BLE001 - an import failure is the answer, as Lambda's Runtime.ImportModuleError
        _answer(answers, {"initError": traceback.format_exc(), "output": output.take()})
        return
    _answer(answers, {"ready": True, "output": output.take()})
    for line in sys.stdin:
        request = json.loads(line)
        context = InvocationContext(
            function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            function_version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
            invoked_function_arn=request["invokedFunctionArn"],
            aws_request_id=request["requestId"],
            deadline_ms=request["deadlineMs"],
        )
        outcome = _invoke(handler, request["event"], context)
        _answer(answers, {"requestId": request["requestId"], **outcome, "output": output.take()})


def _invoke(handler: Any, event: dict[str, Any], context: InvocationContext) -> dict[str, Any]:
    try:
        response = handler(event, context)
        json.dumps(response)
    except Exception as error:  # noqa: BLE001 - a failed invocation is an answer; the environment lives on
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "response": response}


def _answer(stream: IO[str], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


if __name__ == "__main__":
    main()
