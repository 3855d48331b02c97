"""``TransactWriteItems`` idempotent by ``ClientRequestToken`` in the embedded moto server, as in DynamoDB.

botocore gives every ``TransactWriteItems`` call a ``ClientRequestToken`` and keeps it for the SDK's
retries of that call. DynamoDB answers a repeat of a token that succeeded within the last 10
minutes with success and applies nothing again; the same token with other parameters gets
``IdempotentParameterMismatchException``. moto 5.2.5 ignores the token, so when a committed
transaction's answer is lost and the SDK retries, moto runs it again and cancels it (its conditions
now fail): locally the worker saw a duplicate where in AWS it sees its share applied.

:func:`install` wraps moto's ``TransactWriteItems`` response with a :class:`TokenLedger`: a token's
first success is recorded with a digest of the request's other parameters; a failed or cancelled
attempt records nothing, so its retry runs for real (as in DynamoDB). It runs under
:data:`local_runtime.aws.moto_transactions.DYNAMODB_LOCK`, so a token is never checked and applied
by two requests at once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.responses import DynamoHandler

from local_runtime.aws.moto_transactions import DYNAMODB_LOCK

IDEMPOTENCY_WINDOW_S = 600.0
TOKEN = "ClientRequestToken"
MOTO_TRANSACT_WRITE_ITEMS: Callable[[DynamoHandler], ActionResult] = DynamoHandler.transact_write_items


class IdempotentParameterMismatch(DynamodbException):
    error_type = ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException"

    def __init__(self) -> None:
        super().__init__(
            self.error_type,
            message="The request uses the same client token as a previous, but non-identical request.",
        )


class TokenLedger:
    """The tokens of the transactions that succeeded in the last ``window_s`` seconds."""

    def __init__(self, window_s: float = IDEMPOTENCY_WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self._seen: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def already_applied(self, token: str, digest: str) -> bool:
        """Whether ``token`` succeeded within the window (raises if its parameters were others)."""
        self._forget_expired()
        seen = self._seen.get(token)
        if seen is None:
            return False
        if seen[1] != digest:
            raise IdempotentParameterMismatch()
        return True

    def record(self, token: str, digest: str) -> None:
        self._seen[token] = (self.clock(), digest)

    def _forget_expired(self) -> None:
        horizon = self.clock() - self.window_s
        while self._seen and next(iter(self._seen.values()))[0] < horizon:
            self._seen.popitem(last=False)


LEDGER = TokenLedger()


def install() -> None:
    """Wrap moto's ``TransactWriteItems`` response (idempotent, per process)."""
    DynamoHandler.transact_write_items = transact_write_items  # type: ignore[method-assign, assignment]


def transact_write_items(handler: DynamoHandler) -> ActionResult:
    body: dict[str, Any] = handler.body
    token = body.get(TOKEN)
    if not token:
        return MOTO_TRANSACT_WRITE_ITEMS(handler)
    key = f"{handler.current_account}/{handler.region}/{token}"
    digest = hashlib.sha256(
        json.dumps({name: value for name, value in body.items() if name != TOKEN}, sort_keys=True).encode()
    ).hexdigest()
    with DYNAMODB_LOCK:
        if LEDGER.already_applied(key, digest):
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = MOTO_TRANSACT_WRITE_ITEMS(handler)
        LEDGER.record(key, digest)
        return result
