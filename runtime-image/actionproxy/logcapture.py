"""Per-activation stdout/stderr capture: lines never mix, even with several activations in flight.

`StreamCapture.install()` replaces sys.stdout and sys.stderr with `RoutingStream`s. A write goes to the
`ActivationLog` that is current in the writer's context (the `current` ContextVar; asyncio and
`loop.run_in_executor(..., context.run, ...)` carry it into worker threads), or to the stream that was
there before when no activation is current (the proxy's own output, threads the user started).

Each complete line is stamped when it completes; a trailing partial line is kept until `close()`.
A log holds at most MAX_LOG_BYTES (UTF-8 text plus a line prefix allowance) to protect the proxy's memory:
the invoker applies the user's real log limit, which is far smaller.
"""

import contextvars
import io
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, TextIO

StreamName = Literal["stdout", "stderr"]
MAX_LOG_BYTES = 16 * 1024 * 1024
LINE_PREFIX_BYTES = len("2026-01-01T00:00:00.000000Z stdout: ")
SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"


def timestamp() -> str:
    """Now, as RFC 3339 UTC with microseconds: 2026-11-23T04:00:00.123456Z."""
    now_us = time.time_ns() // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_us // 1_000_000)) + f".{now_us % 1_000_000:06d}Z"


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "backslashreplace"))


class LogEntry(NamedTuple):
    stamp: str
    stream: StreamName
    text: str

    def line(self) -> str:
        return f"{self.stamp} {self.stream}: {self.text}"


class ActivationLog:
    """What one activation wrote, line by line. Thread-safe: its function may print from worker threads."""

    def __init__(self, max_bytes: int = MAX_LOG_BYTES) -> None:
        self.entries: list[LogEntry] = []
        self.truncated = False
        self._partial: dict[StreamName, list[str]] = {"stdout": [], "stderr": []}
        self._bytes = 0
        self._max_bytes = max_bytes
        self._closed = False
        self._lock = threading.Lock()

    def write(self, stream: StreamName, text: str) -> bool:
        """Record `text`; False when the activation is over and the caller should write elsewhere."""
        with self._lock:
            if self._closed:
                return False
            if not self.truncated and self._fits(text):
                self._split(stream, text)
            return True

    def close(self) -> list[str]:
        """End the activation: flush partial lines, refuse later writes, return the formatted lines."""
        with self._lock:
            if not self._closed:
                self._closed = True
                for stream, pieces in self._partial.items():
                    if pieces:
                        self._add(stream, "".join(pieces))
                        pieces.clear()
            return [entry.line() for entry in self.entries]

    def _fits(self, text: str) -> bool:
        self._bytes += _utf8_len(text) + LINE_PREFIX_BYTES * text.count("\n")
        if self._bytes <= self._max_bytes:
            return True
        self.truncated = True
        for pieces in self._partial.values():
            pieces.clear()
        note = f"[the runtime stopped capturing this activation's output after {self._max_bytes} bytes]"
        self._add("stderr", note)
        return False

    def _split(self, stream: StreamName, text: str) -> None:
        pieces = self._partial[stream]
        *complete, rest = text.split("\n")
        if complete:  # the pending pieces end with the first complete line
            pieces.append(complete[0])
            self._add(stream, "".join(pieces))
            pieces.clear()
            for line in complete[1:]:
                self._add(stream, line)
        if rest:  # pieces, not one growing string: many small writes stay linear
            pieces.append(rest)

    def _add(self, stream: StreamName, text: str) -> None:
        self.entries.append(LogEntry(timestamp(), stream, text))


current: contextvars.ContextVar[ActivationLog | None] = contextvars.ContextVar("current_activation", default=None)
# The /run body (activation id, deadline, action name, ...) of the activation in this context.
current_run: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar("current_run", default=None)


class RoutingStream(io.TextIOBase):
    """Stands in for sys.stdout or sys.stderr and sends each write to the current activation's log."""

    def __init__(self, name: StreamName, fallback: TextIO) -> None:
        super().__init__()
        self.stream_name: StreamName = name
        self.fallback = fallback

    @property
    def encoding(self) -> str:  # type: ignore[override]  # a plain attribute on TextIOBase
        return getattr(self.fallback, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fallback.fileno()  # output written to the descriptor itself is not captured

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        activation = current.get()
        if activation is None or not activation.write(self.stream_name, text):
            return self.fallback.write(text)
        return len(text)

    def flush(self) -> None:
        if not getattr(self.fallback, "closed", False):
            self.fallback.flush()


class StreamCapture:
    """Routes sys.stdout/sys.stderr while installed; uninstall() puts back what was there before."""

    def __init__(self) -> None:
        self._replaced: tuple[TextIO, TextIO] | None = None

    def install(self) -> tuple[TextIO, TextIO]:
        """Route the streams (again, if something swapped them since) and return the real ones beneath."""
        if self._replaced is None:
            self._replaced = (sys.stdout, sys.stderr)
        out, err = sys.stdout, sys.stderr
        if not isinstance(out, RoutingStream):
            out = sys.stdout = RoutingStream("stdout", out)
        if not isinstance(err, RoutingStream):
            err = sys.stderr = RoutingStream("stderr", err)
        return out.fallback, err.fallback

    def uninstall(self) -> None:
        if self._replaced is not None:
            sys.stdout, sys.stderr = self._replaced
            self._replaced = None


def write_out(activation: ActivationLog, stdout: TextIO, stderr: TextIO, *, sentinels: bool) -> None:
    """OpenWhisk's framing, for readers of `docker logs`: the activation's lines, then the sentinels."""
    for entry in activation.entries:
        (stderr if entry.stream == "stderr" else stdout).write(entry.text + "\n")
    for target in (stdout, stderr):
        if sentinels:
            target.write(SENTINEL + "\n")
        target.flush()
