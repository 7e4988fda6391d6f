"""The runtime kinds table, and how an action's exec names a kind or a custom image."""

import pytest

from core import kinds
from core.action_updates import ActionPut, apply_put
from core.errors import BadRequest
from core.models import Action


def put(**body: object) -> ActionPut:
    return ActionPut.model_validate(body)


def create(exec_: dict[str, object]) -> Action:
    return apply_put(None, put(exec=exec_), namespace="ns", name="a", now_ms=1)


def test_every_python_kind_has_its_own_image_tagged_by_version() -> None:
    images = {r.kind: r.image() for r in kinds.RUNTIMES}
    assert {"python:3.11", "python:3.12", "python:3.13"} <= set(images)
    assert images["python:3.13"] == f"{kinds.RUNTIME_REPOSITORY}:3.13"
    assert len(set(images.values())) == len(images)


def test_python_3_resolves_to_the_one_default() -> None:
    [default] = [r for r in kinds.RUNTIMES if r.default]
    assert kinds.resolve("python:3") == kinds.resolve("python:default") == default.kind
    assert kinds.runtime("python:3") is default


def test_the_listing_names_each_kind_with_its_image_as_openwhisk_does() -> None:
    listing = kinds.listing("repo/rt")
    python = {entry["kind"]: entry for entry in listing["python"]}
    assert python["python:3.12"]["image"] == "repo/rt:3.12"
    assert [k for k, e in python.items() if e["default"]] == [kinds.DEFAULT.kind]
    assert listing["blackbox"][0]["kind"] == "blackbox"


@pytest.mark.parametrize("kind", ["python:3.12", "python:3.13"])
def test_each_kind_is_stored_as_given(kind: str) -> None:
    action = create({"kind": kind, "code": "x = 1"})
    assert action.exec.kind == kind and action.annotation("exec") == kind


def test_unknown_kind_names_every_valid_one() -> None:
    with pytest.raises(BadRequest) as caught:
        create({"kind": "python:2.7", "code": "x"})
    assert all(kind in str(caught.value) for kind in ("python:3.11", "python:3.13", "blackbox"))


def test_blackbox_keeps_its_image_and_may_have_no_code() -> None:
    action = create({"kind": "blackbox", "image": "team/thumbs:1.0"})
    assert action.exec.image == "team/thumbs:1.0" and action.exec.code is None
    assert action.annotation("exec") == "blackbox"


def test_blackbox_with_code_keeps_both() -> None:
    action = create({"kind": "blackbox", "image": "thumbs", "code": "def main(a): return a"})
    assert action.exec.image == "thumbs" and action.exec.code


@pytest.mark.parametrize(
    ("exec_", "message"),
    [
        ({"kind": "blackbox"}, "needs exec.image"),
        ({"kind": "blackbox", "image": "Bad Name!"}, "not a valid image name"),
        ({"kind": "python:3.11", "code": "x", "image": "thumbs"}, "only for the kind 'blackbox'"),
        ({"kind": "python:3.11"}, "no code"),
    ],
)
def test_bad_exec_is_a_clear_400(exec_: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        create(exec_)


@pytest.mark.parametrize("image", ["thumbs", "team/thumbs:1.0", "localhost:5000/a/b:v2", "a.b/c_d-e"])
def test_image_names_docker_accepts_are_accepted(image: str) -> None:
    assert create({"kind": "blackbox", "image": image}).exec.image == image


@pytest.mark.parametrize("handler", ["lambda_function.lambda_handler", "src/app.handler", "pkg.mod.fn"])
def test_a_lambda_handler_annotation_is_kept(handler: str) -> None:
    body = put(exec={"kind": "python:3.11", "code": "x"}, annotations=[{"key": "handler", "value": handler}])
    assert apply_put(None, body, namespace="n", name="a", now_ms=1).annotation("handler") == handler


@pytest.mark.parametrize("handler", ["nodot", "a.", "1x.y", "a b.c", 7])
def test_a_bad_handler_annotation_is_a_400(handler: object) -> None:
    body = put(exec={"kind": "python:3.11", "code": "x"}, annotations=[{"key": "handler", "value": handler}])
    with pytest.raises(BadRequest, match="module.function"):
        apply_put(None, body, namespace="n", name="a", now_ms=1)
