import base64

import pytest

from core.action_updates import ActionPut, apply_put, is_binary
from core.errors import BadRequest, TooLarge
from core.limits import EXEC_MAX_BYTES


def put(**body: object) -> ActionPut:
    return ActionPut.model_validate(body)


CODE = {"kind": "python:3.11", "code": "def main(args):\n    return args\n"}


def test_create_fills_openwhisk_defaults() -> None:
    action = apply_put(None, put(exec=CODE), namespace="ns", name="a", now_ms=5)
    assert action.version == "0.0.1"
    assert action.limits.model_dump() == {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}
    assert action.annotation("exec") == "python:3.11"
    assert action.annotation("provide-api-key") is False
    assert not action.exec.binary
    assert action.updated == 5


def test_create_without_exec_is_rejected() -> None:
    with pytest.raises(BadRequest, match="exec"):
        apply_put(None, put(), namespace="ns", name="a", now_ms=1)


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(BadRequest, match="python:3.11"):
        apply_put(None, put(exec={"kind": "cobol:85", "code": "x"}), namespace="ns", name="a", now_ms=1)


def test_default_kind_is_resolved_and_stored() -> None:
    action = apply_put(None, put(exec={"kind": "python:default", "code": "x = 1"}), namespace="ns", name="a", now_ms=1)
    assert action.exec.kind == "python:3.11"


def test_update_merges_limits_and_annotations_and_bumps_version() -> None:
    first = apply_put(
        None,
        put(exec=CODE, limits={"memory": 128}, annotations=[{"key": "a", "value": 1}, {"key": "b", "value": 2}]),
        namespace="ns",
        name="a",
        now_ms=10,
    )
    second = apply_put(
        first,
        put(limits={"timeout": 1000}, annotations=[{"key": "a", "value": 9}], delAnnotations=["b"]),
        namespace="ns",
        name="a",
        now_ms=10,
    )
    assert second.limits.memory == 128 and second.limits.timeout == 1000
    assert second.annotation("a") == 9 and second.annotation("b") is None
    assert second.version == "0.0.2"
    assert second.exec == first.exec
    assert second.updated > first.updated  # a new revision even within the same millisecond


@pytest.mark.parametrize(
    "limits",
    [
        {"memory": 64},
        {"memory": 1024},
        {"timeout": 50},
        {"timeout": 300_001},
        {"logs": 11},
        {"concurrency": 0},
        {"bogus": 1},
    ],
)
def test_out_of_range_limits_are_rejected(limits: dict[str, int]) -> None:
    with pytest.raises(BadRequest):
        apply_put(None, put(exec=CODE, limits=limits), namespace="ns", name="a", now_ms=1)


def test_base64_code_is_binary() -> None:
    zipped = base64.b64encode(b"PK\x03\x04 not really a zip").decode()
    assert is_binary(zipped)
    assert not is_binary("def main(args): return args")
    assert not is_binary("")


def test_oversized_code_is_413() -> None:
    with pytest.raises(TooLarge):
        apply_put(
            None,
            put(exec={"kind": "python:3.11", "code": "#" * (EXEC_MAX_BYTES + 1)}),
            namespace="ns",
            name="a",
            now_ms=1,
        )
