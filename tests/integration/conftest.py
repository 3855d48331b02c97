"""Fixtures of the integration tests that more than one module uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ShareTable
from tests.factories import share_body, sqs_event, sqs_record
from tests.integration.audit_item import ITEM


@pytest.fixture
def item_shares(share_table: ShareTable, handler_module: Any) -> Callable[[int], None]:
    """Applies ``n`` new shares of :data:`ITEM` through the handler, as the running worker would."""
    share_table.put_item(ITEM, public=True)
    applied: list[int] = []

    def share(n: int) -> None:
        records = []
        for _ in range(n):
            applied.append(len(applied))
            records.append(sqs_record(share_body(ITEM, f"u{applied[-1]}"), f"m-{applied[-1]}"))
        assert handler_module.lambda_handler(sqs_event(*records), None) == {"batchItemFailures": []}

    return share
