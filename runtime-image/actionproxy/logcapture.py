"""Per-activation stdout/stderr: lines never mix, even with several activations in flight.

sys.stdout and sys.stderr are replaced by routing streams. A write goes to the buffer of the
activation current in its context (a ContextVar, which asyncio.to_thread carries into the worker
thread), or to the original stream when no activation is current.
"""

import contextvars
import io
import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

MAX_BYTES = 16 * 1024 * 1024  # protects the proxy; the invoker applies the user's real log limit
SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ActivationLog:
    """The lines one activation printed, as `<timestamp> <stream>: <text>`."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = {"stdout": "", "stderr": ""}
        self._size = 0
        self._lock = threading.Lock()
        self.truncated = False

    def write(self, stream: str, text: str) -> None:
        with self._lock:
            pending = self._partial[stream] + text
            *complete, self._partial[stream] = pending.split("\n")
            for line in complete:
                self._add(stream, line)

    def close(self) -> list[str]:
        with self._lock:
            for stream, rest in self._partial.items():
                if rest:
                    self._add(stream, rest)
                self._partial[stream] = ""
            return list(self.lines)

    def _add(self, stream: str, line: str) -> None:
        if self.truncated:
            return
        self._size += len(line) + 40
        if self._size > MAX_BYTES:
            self.truncated = True
            self.lines.append(f"{timestamp()} stderr: [the proxy stopped collecting logs at {MAX_BYTES} bytes]")
            return
        self.lines.append(f"{timestamp()} {stream}: {line}")


current: contextvars.ContextVar[ActivationLog | None] = contextvars.ContextVar("current_activation", default=None)


class RoutingStream(io.TextIOBase):
    def __init__(self, name: str, fallback: TextIO) -> None:
        self.stream_name = name
        self.fallback = fallback

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        log = current.get()
        if log is None:
            return self.fallback.write(text)
        log.write(self.stream_name, text)
        return len(text)

    def flush(self) -> None:
        if current.get() is None:
            self.fallback.flush()


class StreamRouter:
    """Keeps sys.stdout/sys.stderr routed; re-installs itself if something swapped them meanwhile."""

    def __init__(self) -> None:
        self._original: tuple[TextIO, TextIO] | None = None

    def ensure(self) -> tuple[TextIO, TextIO]:
        """Route the streams (if not already) and return the fallbacks: the container's own streams."""
        out, err = sys.stdout, sys.stderr
        if not (isinstance(out, RoutingStream) and isinstance(err, RoutingStream)):
            if self._original is None:
                self._original = (out, err)
            sys.stdout = RoutingStream("stdout", out)
            sys.stderr = RoutingStream("stderr", err)
        assert isinstance(sys.stdout, RoutingStream) and isinstance(sys.stderr, RoutingStream)
        return sys.stdout.fallback, sys.stderr.fallback

    def close(self) -> None:
        if self._original is not None:
            sys.stdout, sys.stderr = self._original
            self._original = None


def emit_with_sentinels(lines: list[str], stdout: TextIO, stderr: TextIO) -> None:
    """OpenWhisk's framing on the container's own streams, for readers of `docker logs`."""
    for line in lines:
        _, _, rest = line.partition(" ")
        name, _, text = rest.partition(": ")
        (stderr if name == "stderr" else stdout).write(text + "\n")
    for target in (stdout, stderr):
        target.write(SENTINEL + "\n")
        target.flush()
