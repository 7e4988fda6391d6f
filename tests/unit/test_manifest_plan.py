"""Manifests: loading, the desired action body, and the plan that makes deploy idempotent."""

from pathlib import Path
from typing import Any

import pytest

from stratus.client.errors import ConfigError
from stratus.client.manifest import desired_body, load_manifest, plan, plan_route, put_body

MANIFEST = """
actions:
  hello:
    code: hello.py
    params: {greeting: Hi}
    limits: {memory: 128}
    web: true
    annotations: {description: says hello}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "hello.py").write_text("def main(a):\n    return {'g': a.get('greeting')}\n")
    (tmp_path / "stratus.yaml").write_text(MANIFEST)
    return tmp_path


def stored(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The action as the API returns it after a PUT of body (plus server-added fields)."""
    action = {
        "namespace": "guest",
        "name": "hello",
        "exec": {**body["exec"], "binary": False},
        "parameters": body["parameters"],
        "limits": body["limits"],
        "annotations": [*body["annotations"], {"key": "exec", "value": "python:3.11"}],
    }
    return action | changes


def test_the_body_has_every_limit_the_parameters_and_the_web_annotation(project: Path) -> None:
    spec = load_manifest(project / "stratus.yaml").actions["hello"]
    body = desired_body(spec, project)
    assert body["limits"] == {"timeout": 60000, "memory": 128, "logs": 10, "concurrency": 1}
    assert body["parameters"] == [{"key": "greeting", "value": "Hi"}]
    assert {"key": "web-export", "value": True} in body["annotations"]
    assert {"key": "final", "value": True} in body["annotations"]  # web: true implies final
    assert body["exec"]["code"].startswith("def main")


def test_plan_created_unchanged_updated(project: Path) -> None:
    body = desired_body(load_manifest(project / "stratus.yaml").actions["hello"], project)
    assert plan("hello", body, None).verdict == "created"
    assert plan("hello", body, stored(body)).verdict == "unchanged"
    changed = stored(body, limits=body["limits"] | {"memory": 256}, parameters=[])
    changed["exec"] = changed["exec"] | {"code": "def main(a): return {}"}
    change = plan("hello", body, changed)
    assert change.verdict == "updated"
    assert change.reasons == ("code", "parameters", "limits.memory")


def test_a_kind_alias_is_not_a_change(project: Path) -> None:
    (project / "stratus.yaml").write_text(MANIFEST.replace("code: hello.py", "code: hello.py\n    kind: python:3"))
    body = desired_body(load_manifest(project / "stratus.yaml").actions["hello"], project)
    existing = stored(body)
    existing["exec"] = existing["exec"] | {"kind": "python:3.11"}
    assert plan("hello", body, existing).verdict == "unchanged"


def test_a_typo_in_the_manifest_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("actions:\n  a:\n    code: a.py\n    limts: {memory: 128}\n")
    with pytest.raises(ConfigError, match="actions.a.limts"):
        load_manifest(tmp_path / "m.yaml")


def test_unknown_limits_are_refused(project: Path) -> None:
    (project / "stratus.yaml").write_text(MANIFEST.replace("memory: 128", "ram: 128"))
    with pytest.raises(ConfigError, match="unknown limits"):
        desired_body(load_manifest(project / "stratus.yaml").actions["hello"], project)


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("actions: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_manifest(tmp_path / "m.yaml")


def test_routes_are_planned_against_the_listed_ones(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("routes:\n  - {basePath: /shop, relPath: /items, verb: get, action: list-items}\n")
    [route] = load_manifest(tmp_path / "m.yaml").routes
    listed = {"basePath": "/shop", "relPath": "/items", "verb": "GET", "action": "list-items", "responseType": "json"}
    assert plan_route(route, []).verdict == "created"
    assert plan_route(route, [listed]).verdict == "unchanged"
    changed = plan_route(route, [listed | {"action": "other", "responseType": "html"}])
    assert (changed.name, changed.verdict, changed.reasons) == (
        "GET /shop/items",
        "updated",
        ("action", "responseType"),
    )


def test_an_annotation_dropped_from_the_manifest_is_removed(project: Path) -> None:
    before = desired_body(load_manifest(project / "stratus.yaml").actions["hello"], project)
    (project / "stratus.yaml").write_text(MANIFEST.replace("    annotations: {description: says hello}\n", ""))
    after = desired_body(load_manifest(project / "stratus.yaml").actions["hello"], project)
    existing = stored(before, annotations=[*before["annotations"], {"key": "by-hand", "value": 1}])
    change = plan("hello", after, existing)
    assert (change.verdict, change.reasons) == ("updated", ("annotations.description (removed)",))
    assert put_body(after, change)["delAnnotations"] == ["description"]  # by-hand was never the manifest's
    assert "delAnnotations" not in put_body(before, plan("hello", before, stored(before)))


def test_web_implies_final_unless_the_annotations_say_otherwise() -> None:
    from stratus.client.action_body import action_body

    def notes(body: dict[str, Any]) -> dict[str, Any]:
        return {a["key"]: a["value"] for a in body["annotations"]}

    assert notes(action_body(web=True)) == {"web-export": True, "final": True}
    assert notes(action_body(web=True, annotations={"final": False})) == {"web-export": True, "final": False}
    assert notes(action_body(web=False)) == {"web-export": False}
