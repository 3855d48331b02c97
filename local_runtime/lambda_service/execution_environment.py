"""Lambda execution environments for the local poller: one child process per concurrent invocation.

Why processes: the handler keeps per-process state (Powertools logger and metrics, its cached batch
processor), as a Lambda execution environment does, and an environment only ever runs one
invocation at a time. Concurrent batches therefore need an environment each, as in Lambda. A
process per environment also brings Lambda's cold starts, and a timed-out invocation is ended the
way Lambda ends it: its environment is destroyed and the next invocation starts a fresh one.

Each environment runs :mod:`local_runtime.lambda_service.bootstrap` as a plain subprocess with the
function's environment variables and Lambda's reserved ones (``_HANDLER``,
``AWS_LAMBDA_FUNCTION_NAME``...). ``multiprocessing`` is not used: its ``spawn`` re-imports the
parent's main module (the CLI, moto) in every child, and ``fork`` is unsafe in a threaded parent.
What the handler prints is written to this process's standard output after each invocation.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

from local_runtime.stack.template import Function

INIT_TIMEOUT_S = 10
"""Lambda's limit for an environment's init phase (importing the handler)."""
STOP_TIMEOUT_S = 2
LOCAL_ONLY_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true"}
"""No X-Ray daemon runs locally; a value already set in this process wins."""


class InitError(Exception):
    """The handler could not be imported in a new environment."""


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    completed: bool
    """False when the handler raised, timed out or its environment died: the batch is retried."""
    response: Any = None
    error: str | None = None


class ExecutionEnvironment:
    """One child process that imported the handler once and runs invocations one after another."""

    def __init__(self, function: Function, function_arn: str) -> None:
        self.function = function
        self.function_arn = function_arn
        self._killed = False
        self._process = subprocess.Popen(  # the same interpreter, a fixed module: nothing from input
            [sys.executable, "-m", "local_runtime.lambda_service.bootstrap"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_environment(function),
            text=True,
            start_new_session=True,  # Ctrl-C reaches the poller, which lets invocations in flight finish
        )
        answer = self._read_answer(INIT_TIMEOUT_S)
        if answer is None or not answer.get("ready"):
            self.destroy()
            detail = answer.get("initError") if answer else f"no answer within {INIT_TIMEOUT_S} s"
            raise InitError(str(detail))

    def invoke(self, event: dict[str, Any], request_id: str) -> InvocationResult:
        """Run one invocation; on timeout or a dead child the environment is destroyed."""
        timeout_s = self.function.timeout_s
        request = {
            "requestId": request_id,
            "deadlineMs": int((time.time() + timeout_s) * 1000),
            "invokedFunctionArn": self.function_arn,
            "event": event,
        }
        try:
            self._stdin.write(json.dumps(request) + "\n")
            self._stdin.flush()
        except OSError as error:
            self.destroy()
            return InvocationResult(request_id, False, error=f"the execution environment died: {error!r}")
        answer = self._read_answer(timeout_s)
        if answer is None:
            alive = self.alive
            self.destroy()
            if self._killed:
                reason = "the execution environment was killed"
            elif alive:
                reason = f"Task timed out after {timeout_s} seconds"
            else:
                reason = "the execution environment died"
            return InvocationResult(request_id, False, error=reason)
        return InvocationResult(
            request_id, bool(answer.get("ok")), answer.get("response"), answer.get("error")
        )

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """End the environment at its next read (no more invocations), or kill it."""
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._stdin.close()
            self._process.wait(STOP_TIMEOUT_S)
        self.destroy()

    def kill(self) -> None:
        """SIGKILL the child, from any thread: an invocation waiting on it ends at once, as failed."""
        self._killed = True
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()

    def destroy(self) -> None:
        if self.alive:
            self._process.kill()
            self._process.wait(STOP_TIMEOUT_S)
        for stream in (self._process.stdin, self._process.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]

    @property
    def _stdin(self) -> IO[str]:
        assert self._process.stdin is not None
        return self._process.stdin

    def _read_answer(self, timeout_s: float) -> dict[str, Any] | None:
        """The child's next answer line, with the handler's output forwarded; ``None`` on timeout or exit."""
        stdout = self._process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout_s)
        line = stdout.readline() if ready else ""
        if not line:
            return None
        answer: dict[str, Any] = json.loads(line)
        if output := answer.get("output"):
            sys.stdout.write(output)
            sys.stdout.flush()
        return answer


class EnvironmentPool:
    """Warm environments reused across invocations; a new one starts when all are busy.

    Environments start one at a time: a burst of ten cold starts at once on a laptop makes every
    one of them slow. The poller never has more invocations in flight than its maximum
    concurrency, so the pool never holds more environments than that.

    :meth:`kill` ends every environment, busy ones too, for a process that must stop now (a second
    Ctrl-C): environments run in sessions of their own, so the terminal's SIGINT never reaches them.
    """

    def __init__(self, function: Function, function_arn: str) -> None:
        self.function = function
        self.function_arn = function_arn
        self.started = 0
        self._idle: list[ExecutionEnvironment] = []
        self._live: set[ExecutionEnvironment] = set()
        self._killed = False
        self._lock = threading.Lock()
        self._starting = threading.Lock()

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
        with self._lock:
            if environment.alive and not self._killed:
                self._idle.append(environment)
            else:
                self._live.discard(environment)
        return result

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._live.difference_update(idle)
        for environment in idle:
            environment.stop()

    def kill(self) -> None:
        """Kill every environment now, busy or idle; an environment still starting is killed once it is up."""
        with self._lock:
            self._killed = True
            live = list(self._live)
        for environment in live:
            environment.kill()

    def _take(self) -> ExecutionEnvironment:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        with self._starting:
            with self._lock:
                if self._idle:
                    return self._idle.pop()
                self.started += 1
            environment = ExecutionEnvironment(self.function, self.function_arn)
            with self._lock:
                self._live.add(environment)
                killed = self._killed
            if killed:
                environment.kill()
            return environment


def _environment(function: Function) -> dict[str, str]:
    """This process's environment, the function's variables and the ones Lambda reserves."""
    environment = {**LOCAL_ONLY_ENVIRONMENT, **os.environ, **function.environment}
    environment.update(
        _HANDLER=function.handler,
        AWS_LAMBDA_FUNCTION_NAME=function.name,
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(function.memory_mb),
        AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{function.name}",
        AWS_LAMBDA_LOG_STREAM_NAME=f"local/[$LATEST]{os.urandom(16).hex()}",
        PYTHONPATH=os.pathsep.join(path for path in sys.path if path),
    )
    return environment
