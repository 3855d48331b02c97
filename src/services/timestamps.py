"""Timestamps as stored: UTC, millisecond precision, fixed width, so they sort as text."""

from datetime import UTC, datetime


def format_utc(moment: datetime) -> str:
    """``2025-11-13T10:30:00.000Z`` for any timezone-aware ``moment``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def utc_now() -> datetime:
    return datetime.now(UTC)
