"""Lambda execution environments for the local poller: one child process per concurrent invocation.

Why processes: the handler keeps per-process state (Powertools logger and metrics, its cached batch
processor), as a Lambda execution environment does, and an environment only ever runs one
invocation at a time. Concurrent batches therefore need an environment each, as in Lambda. A
process per environment also brings Lambda's cold starts, and a timed-out invocation is ended the
way Lambda ends it: its environment is destroyed and the next invocation starts a fresh one.

Processes are started with ``spawn``: the parent runs threads (the poller, perhaps moto's server)
and forking a threaded process can deadlock. What the handler prints (Powertools' JSON logs and EMF
metrics) is collected per invocation and written to the parent's standard output, the way Lambda
ships it to CloudWatch Logs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from local_runtime.lambda_invocation import InvocationContext, load_handler
from local_runtime.template import Function

INIT_TIMEOUT_S = 10
"""Lambda's limit for an environment's init phase (importing the handler)."""
STOP_TIMEOUT_S = 2


class InitError(Exception):
    """The handler could not be imported in a new environment."""


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    completed: bool
    """False when the handler raised, timed out or its environment died: the batch is retried."""
    response: Any = None
    error: str | None = None
    output: str = ""
    """What the handler printed during the invocation."""


class ExecutionEnvironment:
    """One child process that imported the handler once and runs invocations one after another."""

    def __init__(self, function: Function) -> None:
        self.function = function
        context = multiprocessing.get_context("spawn")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child_end, function), name=f"lambda-env-{function.name}", daemon=True
        )
        self._process.start()
        child_end.close()
        if not self._connection.poll(INIT_TIMEOUT_S):
            self.destroy()
            raise InitError(f"the handler took more than {INIT_TIMEOUT_S} s to import")
        status, detail = self._connection.recv()
        if status != "ready":
            self.destroy()
            raise InitError(detail)
        _forward(detail)

    def invoke(self, event: dict[str, Any], request_id: str) -> InvocationResult:
        """Run one invocation; on timeout or a dead child the environment is destroyed."""
        try:
            self._connection.send((event, request_id))
            if not self._connection.poll(self.function.timeout_s):
                self.destroy()
                return InvocationResult(
                    request_id, False, error=f"Task timed out after {self.function.timeout_s} seconds"
                )
            result: InvocationResult = self._connection.recv()
        except (EOFError, OSError) as error:
            self.destroy()
            return InvocationResult(request_id, False, error=f"the execution environment died: {error!r}")
        _forward(result.output)
        return result

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._connection.send(None)
        self._process.join(STOP_TIMEOUT_S)
        self.destroy()

    def destroy(self) -> None:
        if self._process.is_alive():
            self._process.kill()
            self._process.join(STOP_TIMEOUT_S)
        self._connection.close()


class EnvironmentPool:
    """Warm environments reused across invocations, new ones started when all are busy.

    The poller never has more invocations in flight than its maximum concurrency, so the pool
    never holds more environments than that.
    """

    def __init__(self, function: Function) -> None:
        self.function = function
        self.started = 0
        self._idle: list[ExecutionEnvironment] = []
        self._lock = threading.Lock()

    def __enter__(self) -> EnvironmentPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def invoke(self, event: dict[str, Any], request_id: str) -> InvocationResult:
        try:
            environment = self._take()
        except InitError as error:
            return InvocationResult(request_id, False, error=f"init failed: {error}")
        result = environment.invoke(event, request_id)
        if environment.alive:
            with self._lock:
                self._idle.append(environment)
        return result

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for environment in idle:
            environment.stop()

    def _take(self) -> ExecutionEnvironment:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.started += 1
        return ExecutionEnvironment(self.function)


class _Output:
    """The child's standard output (file descriptor 1) in a temporary file, read once per invocation.

    Redirecting the descriptor catches every writer, including Powertools' log handler, which keeps
    the ``sys.stdout`` it saw when it was created (possibly while ``spawn`` imported the parent's
    main module, before this code ran).
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


def _serve(connection: Connection, function: Function) -> None:
    """The child: import the handler (the cold start), then run invocations until told to stop."""
    output = _Output()
    try:
        handler = load_handler(function)
    except BaseException:  # noqa: BLE001 - any import failure is reported to the parent
        connection.send(("error", traceback.format_exc()))
        return
    connection.send(("ready", output.take()))
    while (message := _receive(connection)) is not None:
        event, request_id = message
        context = InvocationContext(
            function_name=function.name,
            memory_limit_in_mb=function.memory_mb,
            aws_request_id=request_id,
            timeout_s=function.timeout_s,
        )
        try:
            response = handler(event, context)
        except Exception as error:  # noqa: BLE001 - a failed invocation is reported, the environment lives on
            error_text = f"{type(error).__name__}: {error}"
            connection.send(InvocationResult(request_id, False, error=error_text, output=output.take()))
        else:
            connection.send(InvocationResult(request_id, True, response=response, output=output.take()))


def _receive(connection: Connection) -> tuple[dict[str, Any], str] | None:
    try:
        message: tuple[dict[str, Any], str] | None = connection.recv()
    except EOFError:
        return None
    return message


def _forward(output: str) -> None:
    if output:
        sys.stdout.write(output)
        sys.stdout.flush()
