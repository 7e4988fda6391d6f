"""The activation log line format: `<RFC 3339 UTC timestamp> <stdout|stderr>: <text>`."""

from datetime import UTC, datetime


def log_line(stream: str, text: str) -> str:
    return f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} {stream}: {text}"
