"""Timestamps as stored: UTC, millisecond precision, fixed width, so they sort as text."""

from datetime import UTC, datetime


def format_utc(moment: datetime) -> str:
    """``2025-11-13T10:30:00.000Z`` for any timezone-aware ``moment``."""
    utc = moment.astimezone(UTC)
    # Not strftime: its %Y does not pad years below 1000 to four digits on every platform.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
