"""A stand-in Lambda context for calls that come without one (``lambda_handler(event, None)``).

Powertools' ``inject_lambda_context`` reads attributes of the context, so a plain unit test or
script passing ``None`` would otherwise fail with ``AttributeError`` before any record is seen.
"""

import uuid
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class LocalLambdaContext:
    function_name: str = "share-worker-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:share-worker-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_time_ms: int = 15 * 60 * 1000
    counts_down: ClassVar[bool] = False
    """Its time left never moves, so it sets no budget to end contention retries: their count does.
    A subclass whose time runs down says so (``True``)."""

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_time_ms
