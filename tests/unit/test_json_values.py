"""JSON from callers: what the gateway refuses, and that every consumer's parser takes what it accepts."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import limits as L
from core.errors import BadRequest, TooLarge, UnsupportedMediaType
from core.ids import ControllerId, InvokerId, new_activation_id
from core.json_values import check_value, parse_json
from core.messages import Dispatch, Invocation
from core.models import KeyValue
from gateway.body import check_head, parse_object
from tests.factories import make_action


def nested(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def nested_text(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"a": NaN}', "expected value at line 1 column 7"),
        (b'{"a": Infinity}', "expected value at line 1 column 7"),
        (b'{"a": -Infinity}', "invalid number at line 1 column 8"),
        (b'{"a": 1e999}', "the value at a is not a finite 64-bit number"),
        (b'{"a": {"\\u0000k": 1}}', "the value at a.\x00k has a key with a NUL character"),
        (b'{"a": 1, "a": 2}', 'duplicate key "a"'),
        (b'{"a": "\\ud800"}', "surrogate"),
        (b'{"a": "\\udc00x"}', "surrogate"),
        (b'{"\\ud800": 1}', "surrogate"),
        (b'{"a": "\xff"}', "invalid unicode"),
        ('{"a": "é"}'.encode("utf-16"), "expected value"),
        (b'{"a": 9223372036854775808}', "the value at a is an integer outside the 64-bit range"),
        (b'{"a": [0, -9223372036854775809]}', "the value at a[1] is an integer outside the 64-bit range"),
        (b'{"a": ' + b"9" * 5000 + b"}", "number out of range"),
        (nested_text(L.JSON_MAX_DEPTH + 1), f"nested deeper than {L.JSON_MAX_DEPTH} levels"),
        (nested_text(250), f"nested deeper than {L.JSON_MAX_DEPTH} levels"),  # past jiter's own limit
        (b"[" * 100_000, f"nested deeper than {L.JSON_MAX_DEPTH} levels"),
        (b'{"a": 1} x', "trailing characters"),
        (b'{"a": 1', "EOF"),
    ],
)
def test_refuses_what_a_consumer_could_not_take(raw: bytes, says: str) -> None:
    with pytest.raises(BadRequest, match="The request content was malformed") as refused:
        parse_json(raw)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (nested_text(L.JSON_MAX_DEPTH), nested(L.JSON_MAX_DEPTH)),
        (b'{"min": -9223372036854775808, "max": 9223372036854775807}', {"min": L.INT64_MIN, "max": L.INT64_MAX}),
        (b'{"f": 1.7976931348623157e308, "z": -0.0, "e": 1e-999}', {"f": 1.7976931348623157e308, "z": -0.0, "e": 0.0}),
        (b'{"smile": "\\ud83d\\ude00", "raw": "\xf0\x9f\x98\x80"}', {"smile": "\U0001f600", "raw": "\U0001f600"}),
        (b'{"nul": "\\u0000", "": "", "$where": "a.b"}', {"nul": "\x00", "": "", "$where": "a.b"}),
        (b'\xef\xbb\xbf{"bom": true}', {"bom": True}),
    ],
)
def test_accepts_the_limits_themselves(raw: bytes, value: Any) -> None:
    assert parse_json(raw) == value


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"a": ["ok", "\ud800"]}, "the value at a[1] is text that is not valid Unicode"),
        ({"a": {"\udfff": 1}}, "has a key that is not valid Unicode"),
        ({1: "x"}, "has a key that is not a string"),
        ({"n": 2**64}, "the value at n is an integer outside the 64-bit range"),
        ({"x": float("nan")}, "is not a finite 64-bit number"),
        ({"x": [{"\x00": 1}]}, "has a key with a NUL character"),
        (nested(L.JSON_MAX_DEPTH + 1), f"nested deeper than {L.JSON_MAX_DEPTH} levels"),
    ],
)
def test_checks_values_built_from_other_input(value: Any, says: str) -> None:
    with pytest.raises(BadRequest, match="The request content was malformed") as refused:
        check_value(value)
    assert says in str(refused.value)
    str(refused.value).encode("utf-8")  # the message itself never carries a lone surrogate


def test_body_limits_and_shape() -> None:
    assert parse_object(b"  \n", max_bytes=10) == {}
    with pytest.raises(TooLarge):
        parse_object(b'{"a": "' + b"x" * 20 + b'"}', max_bytes=10)
    with pytest.raises(BadRequest, match="a JSON object is expected"):
        parse_object(b"[1, 2]", max_bytes=100)


@pytest.mark.parametrize("content_type", [None, "application/json", "Application/JSON; charset=utf-8",
                                          "application/vnd.api+json"])  # fmt: skip
def test_json_content_types_are_taken(content_type: str | None) -> None:
    check_head(content_type, "2", 10, "request")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_other_content_types_get_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="send JSON"):
        check_head(content_type, "2", 10, "request")


def test_a_declared_length_over_the_limit_is_413_before_reading() -> None:
    with pytest.raises(TooLarge):
        check_head("application/json", "11", 10, "request")


def consumers_read(params: dict[str, Any], action_parameter: Any = None) -> dict[str, Any]:
    """What each consumer of an accepted body decodes: the controller (Invocation) and the invoker (Dispatch),
    with pydantic, and the runtime (the /run body) with json.loads. Raises if any of them cannot."""
    action = make_action(parameters=[KeyValue(key="p", value=action_parameter)])
    invocation = Invocation(
        activation_id=new_activation_id(),
        namespace="ns",
        subject="ns",
        action=action.without_code(),
        params=params,
        accepted_ms=1,
    )
    controller = Invocation.from_fields({b"body": invocation.to_fields()["body"].encode()})
    dispatch = Dispatch(invocation=controller, invoker_id=InvokerId("i"), controller_id=ControllerId("c"))
    invoker = Dispatch.from_fields({b"body": dispatch.to_fields()["body"].encode()}).invocation
    assert invoker.action.parameters[0].value == action_parameter
    run_body = json.dumps({"value": invoker.params, "activation_id": invoker.activation_id}).encode()
    found: dict[str, Any] = json.loads(run_body)["value"]  # as the runtime's action proxy reads /run
    return found


def test_the_deepest_accepted_body_reaches_every_consumer() -> None:
    body = parse_object(nested_text(L.JSON_MAX_DEPTH), max_bytes=L.PAYLOAD_MAX_BYTES)
    put = b'{"parameters": [{"key": "p", "value": ' + nested_text(L.JSON_MAX_DEPTH - 3) + b"}]}"  # an action's
    deepest_parameter = parse_json(put)["parameters"][0]["value"]
    assert consumers_read(body, deepest_parameter) == body


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(codec=None)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(st.text(max_size=8), JSON, max_size=5), ascii_only=st.booleans())
def test_every_accepted_body_reaches_every_consumer_unchanged(body: dict[str, Any], ascii_only: bool) -> None:
    raw = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        accepted = parse_object(raw, max_bytes=L.PAYLOAD_MAX_BYTES)
    except BadRequest:
        return
    assert consumers_read(accepted) == accepted == body


@settings(max_examples=400, derandomize=True, database=None)
@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_are_a_body_or_a_400(raw: bytes) -> None:
    try:
        parse_object(raw, max_bytes=L.PAYLOAD_MAX_BYTES)
    except BadRequest:
        pass
