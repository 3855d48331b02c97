"""The token ledger's 10-minute window, on a clock the test turns."""

from __future__ import annotations

import pytest

from local_runtime.aws.client_tokens import IDEMPOTENCY_WINDOW_S, IdempotentParameterMismatch, TokenLedger


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_remembered_for_the_window_and_forgotten_after_it() -> None:
    clock = Clock()
    ledger = TokenLedger(clock=clock)
    ledger.record("t", "digest")

    clock.now = IDEMPOTENCY_WINDOW_S
    remembered = ledger.already_applied("t", "digest")
    clock.now = IDEMPOTENCY_WINDOW_S + 1
    forgotten = not ledger.already_applied("t", "digest")

    assert remembered and forgotten


def test_a_token_with_another_digest_is_a_mismatch() -> None:
    ledger = TokenLedger(clock=Clock())
    ledger.record("t", "digest")

    with pytest.raises(IdempotentParameterMismatch):
        ledger.already_applied("t", "other")
    assert not ledger.already_applied("u", "digest")
