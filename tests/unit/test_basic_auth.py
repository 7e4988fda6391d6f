"""HTTP Basic parsing: whatever bytes the header carries, a 401 (Unauthorized), never a crash."""

import base64

import pytest

from core.errors import Unauthorized
from gateway.auth import parse_basic


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


def test_takes_uuid_and_key() -> None:
    assert parse_basic(basic(b"u-1:s3cret:with:colons")) == ("u-1", "s3cret:with:colons")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer x",
        "Basic",
        "Basic ====",
        "Basic \xe9\xe9",  # a header value decoded as latin-1: not ASCII, so not base64
        basic(b"\xff\xfe:x"),  # not UTF-8
        basic(b":"),
        basic(b"x:"),
        basic(b"no-colon"),
    ],
)
def test_anything_else_is_unauthorized(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        parse_basic(header)
