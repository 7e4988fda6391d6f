"""`stratus deploy` / `stratus undeploy` against a real platform: idempotent, and saying what changed."""

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.e2e.cli_runner import Cli
from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

MANIFEST = """
actions:
  {prefix}-hello:
    code: hello.py
    params: {{greeting: Hi}}
    limits: {{memory: 128, timeout: 50000}}
    web: true
    annotations: {{description: says hello}}
  {prefix}-zipped:
    code: app
routes:
  - {{basePath: /{prefix}, relPath: "/hello/{{to}}", verb: get, action: {prefix}-hello}}
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    prefix = f"m{uuid4().hex[:8]}"
    (tmp_path / "hello.py").write_text("def main(a):\n    return {'said': a['greeting'] + ' ' + a.get('to', 'you')}\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__main__.py").write_text("def main(a):\n    return {'zipped': True}\n")
    (tmp_path / "stratus.yaml").write_text(MANIFEST.format(prefix=prefix))
    return tmp_path, prefix


def get(platform: Platform, name: str) -> tuple[int, dict[str, Any]]:
    with platform.client() as client:
        answer = client.get(f"/api/v1/namespaces/_/actions/{name}")
    return answer.status_code, answer.json()


def changes(cli: Cli, *args: str) -> dict[str, str]:
    done = cli(*args, "--json")
    assert done.exit_code == 0, done.output
    return {row["name"]: row["change"] for row in json.loads(done.stdout)}


def test_deploy_creates_then_leaves_alone_then_updates_then_undeploys(
    platform: Platform, project: tuple[Path, str], tmp_path: Path
) -> None:
    folder, prefix = project
    cli = Cli(platform, tmp_path / "config.json")
    manifest = str(folder / "stratus.yaml")
    hello, zipped, route = f"{prefix}-hello", f"{prefix}-zipped", f"GET /{prefix}/hello/{{to}}"

    assert changes(cli, "deploy", manifest) == {hello: "created", zipped: "created", route: "created"}
    status, action = get(platform, hello)
    assert status == 200
    assert action["parameters"] == [{"key": "greeting", "value": "Hi"}]
    assert action["limits"]["memory"] == 128 and action["limits"]["timeout"] == 50000
    notes = {a["key"]: a["value"] for a in action["annotations"]}
    assert notes["web-export"] is True and notes["description"] == "says hello"
    assert get(platform, zipped)[1]["exec"]["binary"] is True
    with platform.client() as client:
        assert client.get(f"/api/guest/{prefix}/hello/bob").json() == {"said": "Hi bob"}

    assert changes(cli, "deploy", manifest) == {hello: "unchanged", zipped: "unchanged", route: "unchanged"}
    assert get(platform, hello)[1]["updated"] == action["updated"]  # nothing was written

    (folder / "hello.py").write_text("def main(a):\n    return {'said': 'v2'}\n")
    text = (folder / "stratus.yaml").read_text()
    (folder / "stratus.yaml").write_text(text.replace("    annotations: {description: says hello}\n", ""))
    shown = cli("deploy", manifest)
    assert shown.exit_code == 0, shown.output
    assert f"updated   action {hello} (code, annotations.description (removed))" in shown.stdout
    assert "description" not in {a["key"] for a in get(platform, hello)[1]["annotations"]}
    assert f"unchanged action {zipped}" in shown.stdout
    result = cli("action", "invoke", hello, "-r")
    assert json.loads(result.stdout) == {"said": "v2"}

    assert changes(cli, "undeploy", manifest) == {hello: "deleted", zipped: "deleted", route: "deleted"}
    assert get(platform, hello)[0] == 404 and get(platform, zipped)[0] == 404
    with platform.client() as client:
        assert client.get("/api/v1/namespaces/_/routes", params={"basePath": f"/{prefix}"}).json() == []
    assert changes(cli, "undeploy", manifest) == {hello: "absent", zipped: "absent", route: "absent"}


def test_dry_run_changes_nothing(platform: Platform, project: tuple[Path, str], tmp_path: Path) -> None:
    folder, prefix = project
    cli = Cli(platform, tmp_path / "config.json")
    assert changes(cli, "deploy", str(folder / "stratus.yaml"), "--dry-run")[f"{prefix}-hello"] == "created"
    assert get(platform, f"{prefix}-hello")[0] == 404


def test_a_bad_manifest_fails_before_touching_anything(platform: Platform, tmp_path: Path) -> None:
    cli = Cli(platform, tmp_path / "config.json")
    (tmp_path / "ok.py").write_text("def main(a):\n    return a\n")
    (tmp_path / "bad.yaml").write_text("actions:\n  ok-one:\n    code: ok.py\n  bad-one:\n    code: missing.py\n")
    failed = cli("deploy", str(tmp_path / "bad.yaml"))
    assert failed.exit_code == 1 and "missing.py does not exist" in failed.stderr
    assert get(platform, "ok-one")[0] == 404
