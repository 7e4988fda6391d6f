"""JSON from callers, held to the limits every consumer of it can take (core.limits).

A request body is parsed once, at the gateway, with jiter: the parser inside pydantic-core that decodes
every stream message (core.messages), so what a consumer's parser refuses (invalid UTF-8, lone
surrogates, NaN and Infinity, nesting past jiter's 200 levels) is refused here first, as a 400. jiter also
refuses duplicate keys (which value would win is up to each parser). Then `check_value` walks the value for
what jiter lets through but a consumer cannot take: nesting deeper than JSON_MAX_DEPTH (the envelopes
around parameters add levels), integers beyond 64 bits, numbers too large for a double (`1e999`), keys with
a NUL character (the activation store keeps results, often the parameters, as BSON), and, in values built
from other input (web requests), text that is not valid Unicode.

Example: `{"a": {"b": [1, 2]}}` is 3 levels deep; `{"n": 9223372036854775808}` is refused (2^63).
"""

import math
from typing import Any

import jiter

from core import limits as L
from core.errors import BadRequest

MALFORMED = "The request content was malformed"
BOM = b"\xef\xbb\xbf"
PLAINER = {  # jiter's words -> words a caller can act on (the position that follows them stays)
    "recursion limit exceeded": f"the JSON is nested deeper than {L.JSON_MAX_DEPTH} levels,",
    "unexpected end of hex escape": "a \\u escape is cut short or is a lone surrogate (not Unicode)",
    "Detected duplicate key": "duplicate key",
}


class _Problem(Exception):
    def __init__(self, what: str) -> None:
        self.what = what
        self.path: list[str | int] = []


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw` (UTF-8, a leading BOM ignored), checked by `check_value`; BadRequest if not."""
    try:
        value = jiter.from_json(raw.removeprefix(BOM), allow_inf_nan=False, catch_duplicate_keys=True)
    except ValueError as exc:
        message = str(exc)
        for said, plainer in PLAINER.items():
            message = message.replace(said, plainer)
        raise BadRequest(f"{MALFORMED}: {message}.") from exc
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """BadRequest, naming where, unless every consumer can take `value` (a JSON value as Python objects)."""
    problem = find_problem(value)
    if problem is not None:
        raise BadRequest(f"{MALFORMED}: {problem}.")


def find_problem(value: Any) -> str | None:
    """What in `value` a consumer could not take (`the value at a.b[2] is ...`), or None. Also used on what
    functions return: their results are kept in activation records, under the same limits."""
    try:
        _check_container([value], 0)  # a wrapper at level 0: `value`, if a container, is level 1
    except _Problem as problem:
        path = problem.path[:-1]  # without the wrapper's index
        where = f" at {_render(path)}" if path else ""
        return f"the value{where} {problem.what}"
    return None


def _check_container(value: dict[Any, Any] | list[Any], depth: int) -> None:
    """ASCII text, the bulk of most bodies, is passed over without a call."""
    if depth > L.JSON_MAX_DEPTH:
        raise _Problem(f"is nested deeper than {L.JSON_MAX_DEPTH} levels")
    is_dict = type(value) is dict
    for key, item in value.items() if is_dict else enumerate(value):  # type: ignore[union-attr]
        try:
            if is_dict and (type(key) is not str or not key.isascii() or "\x00" in key):
                _check_key(key)
            kind = type(item)
            if kind is dict or kind is list:
                _check_container(item, depth + 1)
            elif kind is not str or not item.isascii():
                _check_scalar(item)
        except _Problem as problem:
            problem.path.append(key)
            raise


def _check_scalar(value: Any) -> None:
    kind = type(value)
    if kind is str:
        _check_text(value)
    elif kind is int and not L.INT64_MIN <= value <= L.INT64_MAX:
        raise _Problem(f"is an integer outside the 64-bit range ({L.INT64_MIN} to {L.INT64_MAX})")
    elif kind is float and not math.isfinite(value):
        raise _Problem("is not a finite 64-bit number (NaN, Infinity, or too large: 1e999)")


def _check_key(key: Any) -> None:
    if type(key) is not str:
        raise _Problem(f"has a key that is not a string: {key!r}")
    if "\x00" in key:  # BSON keys are C strings: the activation store could not keep the record
        raise _Problem("has a key with a NUL character (\\u0000)")
    try:
        _check_text(key)
    except _Problem:
        raise _Problem("has a key that is not valid Unicode (a lone surrogate)") from None


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Problem("is text that is not valid Unicode (a lone surrogate)") from None


def _render(path: list[str | int]) -> str:
    """Innermost last: ['b', 0, 'a'] (collected inside out) -> `a.b[0]`, cut to 120 characters."""
    text = ""
    for part in reversed(path):
        key = part if part else '""'
        text += f"[{part}]" if isinstance(part, int) else (f".{key}" if text else str(key))
    text = text.encode("utf-8", "backslashreplace").decode()  # a key may be the problem: never echo a surrogate
    return text if len(text) <= 120 else text[:117] + "..."
