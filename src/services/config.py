"""Settings read once from the function's environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.errors import ConfigurationError

DEFAULT_DEDUP_TTL_DAYS = 30
MIN_DEDUP_TTL_DAYS = 14
"""SQS keeps a message at most 14 days (in the DLQ too): a marker must outlive any redelivery."""
MAX_DEDUP_TTL_DAYS = 365
"""The template's bound too; far beyond it, the expiry date itself no longer fits a date."""
DEFAULT_MAX_PARALLEL_RECORDS = 10
DEFAULT_DEADLINE_MARGIN_MS = 4500


@dataclass(frozen=True)
class Settings:
    table_name: str
    dedup_ttl_days: int = DEFAULT_DEDUP_TTL_DAYS
    max_parallel_records: int = DEFAULT_MAX_PARALLEL_RECORDS
    deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        table_name = environ.get("TABLE_NAME", "").strip()
        if not table_name:
            raise ConfigurationError("TABLE_NAME is not set: the worker needs the name of its DynamoDB table")
        return cls(
            table_name=table_name,
            dedup_ttl_days=_dedup_ttl_days(environ),
            max_parallel_records=_positive_int(environ, "MAX_PARALLEL_RECORDS", DEFAULT_MAX_PARALLEL_RECORDS),
            deadline_margin_ms=_positive_int(environ, "DEADLINE_MARGIN_MS", DEFAULT_DEADLINE_MARGIN_MS),
        )


def _dedup_ttl_days(environ: Mapping[str, str]) -> int:
    days = _positive_int(environ, "DEDUP_TTL_DAYS", DEFAULT_DEDUP_TTL_DAYS)
    if days < MIN_DEDUP_TTL_DAYS:
        raise ConfigurationError(
            f"DEDUP_TTL_DAYS must be at least {MIN_DEDUP_TTL_DAYS}, got {days}: a message can wait 14 days "
            "in the queues and be redriven, and its eventId must still be remembered then"
        )
    if days > MAX_DEDUP_TTL_DAYS:
        raise ConfigurationError(f"DEDUP_TTL_DAYS must be at most {MAX_DEDUP_TTL_DAYS}, got {days}")
    return days


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {value}")
    return value
