"""The `stratus` CLI against a real platform: what it prints, its exit codes, and what the platform then holds."""

import dataclasses
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from stratus.cli.actions import complete_action_name
from tests.e2e.cli_runner import Cli
from tests.e2e.conftest import Platform
from tests.e2e.test_invoke import wait_record

pytestmark = pytest.mark.docker

HELLO = """
def main(args):
    print("hello", args.get("name"))
    return {"greeting": f"Hello {args.get('name', 'stranger')}!", "n": args.get("n")}
"""
FAILS = "def main(args):\n    raise RuntimeError('it broke')\n"


@pytest.fixture
def cli(platform: Platform, tmp_path: Path) -> Cli:
    return Cli(platform, tmp_path / "config" / "config.json")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def stored(platform: Platform, name: str) -> dict[str, Any]:
    with platform.client() as client:
        answer = client.get(f"/api/v1/namespaces/_/actions/{name}")
    assert answer.status_code == 200, answer.text
    action: dict[str, Any] = answer.json()
    return action


def notes(entity: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in entity["annotations"]}


def test_property_set_stores_host_and_key_used_by_later_commands(cli: Cli, platform: Platform) -> None:
    unconfigured = cli("namespace", "list", configured=False)
    assert unconfigured.exit_code == 1 and "stratus property set --apihost" in unconfigured.stderr
    done = cli("property", "set", "--apihost", platform.url, "--auth", platform.key, configured=False)
    assert done.exit_code == 0, done.output
    assert json.loads(cli.config_file.read_text()) == {"apihost": platform.url, "auth": platform.key}
    assert cli.config_file.stat().st_mode & 0o077 == 0  # the key is readable by its owner only
    listed = cli("namespace", "list", "--json", configured=False)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == ["guest"]
    shown = cli("config", "get", "--json", configured=False)
    assert json.loads(shown.stdout)["auth"] == platform.key.split(":")[0] + ":***"


def test_create_from_a_file_with_params_limits_and_web(cli: Cli, platform: Platform, tmp_path: Path) -> None:
    name = unique("hello")
    (tmp_path / "hello.py").write_text(HELLO)
    created = cli(
        "action", "create", name, str(tmp_path / "hello.py"),
        "-p", "name", "world", "--param", "n", "3", "--memory", "128", "--timeout", "50000", "--web",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    action = stored(platform, name)
    assert action["exec"]["code"] == HELLO
    assert action["parameters"] == [{"key": "name", "value": "world"}, {"key": "n", "value": 3}]
    assert action["limits"]["memory"] == 128 and action["limits"]["timeout"] == 50000
    assert notes(action)["web-export"] is True and notes(action)["final"] is True  # --web implies final
    overridden = cli("action", "invoke", name, "--result", "-p", "name", "cli")
    assert overridden.exit_code == 1 and "not allowed: name" in overridden.output
    result = cli("action", "invoke", name, "--result", "-p", "other", "x")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"greeting": "Hello world!", "n": 3}


def test_create_twice_fails_and_says_to_update_which_merges(cli: Cli, platform: Platform, tmp_path: Path) -> None:
    name = unique("twice")
    (tmp_path / "hello.py").write_text(HELLO)
    assert cli("action", "create", name, str(tmp_path / "hello.py"), "-p", "n", "1").exit_code == 0
    again = cli("action", "create", name, str(tmp_path / "hello.py"))
    assert again.exit_code == 1 and "update" in again.stderr
    updated = cli("action", "update", name, "--memory", "192", "--concurrency", "4")
    assert updated.exit_code == 0, updated.output
    action = stored(platform, name)
    assert action["limits"]["memory"] == 192 and action["limits"]["concurrency"] == 4
    assert action["parameters"] == [{"key": "n", "value": 1}]  # kept: no --param given
    assert action["version"] == "0.0.2"


def test_code_from_a_folder_and_from_a_zip(cli: Cli, platform: Platform, tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "helper.py").write_text("def shout(s):\n    return s.upper()\n")
    main = "from helper import shout\n\ndef main(a):\n    return {'said': shout(a['s'])}\n"
    (folder / "__main__.py").write_text(main)
    with zipfile.ZipFile(tmp_path / "app.zip", "w") as archive:
        for path in folder.iterdir():
            archive.write(path, path.name)
    for source in (folder, tmp_path / "app.zip"):
        name = unique("zipped")
        assert cli("action", "create", name, str(source)).exit_code == 0
        assert stored(platform, name)["exec"]["binary"] is True
        result = cli("action", "invoke", name, "-r", "-p", "s", "hi")
        assert json.loads(result.stdout) == {"said": "HI"}, result.output


def test_non_blocking_invoke_then_the_activation_commands(cli: Cli, platform: Platform, tmp_path: Path) -> None:
    name = unique("async")
    (tmp_path / "hello.py").write_text(HELLO)
    (tmp_path / "params.json").write_text(json.dumps({"name": "file", "n": 1}))
    assert cli("action", "create", name, str(tmp_path / "hello.py")).exit_code == 0
    invoked = cli("action", "invoke", name, "--param-file", str(tmp_path / "params.json"), "-p", "n", "2")
    assert invoked.exit_code == 0, invoked.output
    activation_id = invoked.stdout.split()[-1]
    assert len(activation_id) == 32
    as_json = cli("action", "invoke", name, "--json")
    assert len(json.loads(as_json.stdout)["activationId"]) == 32
    with platform.client() as client:  # wait for the record through the API, not the CLI
        record = wait_record(client, activation_id)
    assert record["response"]["result"] == {"greeting": "Hello file!", "n": 2}
    got = cli("activation", "get", activation_id)
    assert json.loads(got.stdout)["activationId"] == activation_id
    assert json.loads(cli("activation", "result", activation_id).stdout) == {"greeting": "Hello file!", "n": 2}
    assert "stdout: hello file" in cli("activation", "logs", activation_id).stdout
    listed = json.loads(cli("activation", "list", name, "--json").stdout)
    assert activation_id in [r["activationId"] for r in listed]
    table = cli("activation", "list", name).stdout
    assert activation_id in table and "success" in table


def test_a_failing_function_exits_3_and_names_the_activation(cli: Cli, tmp_path: Path) -> None:
    name = unique("fails")
    (tmp_path / "fails.py").write_text(FAILS)
    assert cli("action", "create", name, str(tmp_path / "fails.py")).exit_code == 0
    failed = cli("action", "invoke", name, "--blocking")
    assert failed.exit_code == 3, failed.output
    assert "application error" in failed.stderr and "it broke" in failed.stderr
    record = json.loads(failed.stdout)
    assert record["response"]["status"] == "application error"
    assert record["activationId"] in failed.stderr


def test_list_and_delete(cli: Cli, platform: Platform, tmp_path: Path) -> None:
    name = unique("listed")
    (tmp_path / "hello.py").write_text(HELLO)
    assert cli("action", "create", name, str(tmp_path / "hello.py"), "--memory", "128").exit_code == 0
    rows = json.loads(cli("action", "list", "--json", "--limit", "0").stdout)
    assert name in [r["name"] for r in rows]
    table = cli("action", "list", "--limit", "0").stdout
    assert any(line.split()[:1] == [name] and "128" in line.split() for line in table.splitlines())
    assert cli("action", "delete", name).exit_code == 0
    with platform.client() as client:
        assert client.get(f"/api/v1/namespaces/_/actions/{name}").status_code == 404
    missing = cli("action", "delete", name)
    assert missing.exit_code == 1 and "does not exist" in missing.stderr and "stratus action list" in missing.stderr


def test_a_wrong_key_is_explained(platform: Platform, tmp_path: Path) -> None:
    uuid = platform.key.split(":")[0]
    wrong = Cli(dataclasses.replace(platform, key=f"{uuid}:wrong"), tmp_path / "c.json")
    answer = wrong("action", "list")
    assert answer.exit_code == 1 and "stratus property set --auth" in answer.stderr


def test_poll_shows_activations_as_they_finish(platform: Platform, tmp_path: Path) -> None:
    name = unique("polled")
    with platform.client() as client:
        put = client.put(f"/api/v1/namespaces/_/actions/{name}", json={"exec": {"kind": "python:3.11", "code": HELLO}})
        assert put.status_code == 200, put.text
        env = {"STRATUS_APIHOST": platform.url, "STRATUS_AUTH": platform.key}
        env["STRATUS_CONFIG_FILE"] = str(tmp_path / "config.json")
        command = [sys.executable, "-m", "stratus.cli", "activation", "poll", name, "--count", "1", "--exit", "120"]
        poller = subprocess.Popen(
            command, env=os.environ | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert poller.stderr is not None
        assert "polling for activations" in poller.stderr.readline()  # it runs: what comes next is new
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={"name": "poll"})
        assert answer.status_code == 200, answer.text
        stdout, _ = poller.communicate(timeout=120)
    assert poller.returncode == 0
    assert f"{name} ({answer.json()['activationId']}) success" in stdout
    assert "stdout: hello poll" in stdout


def test_web_action_url_and_api_routes(cli: Cli, platform: Platform, tmp_path: Path) -> None:
    name = unique("web")
    base = f"/{unique('shop')}"
    (tmp_path / "item.py").write_text("def main(args):\n    return {'item': args.get('id')}\n")
    assert cli("action", "create", name, str(tmp_path / "item.py"), "--web").exit_code == 0
    url = cli("action", "get", name, "--url").stdout.strip()
    assert url == f"{platform.url}/api/v1/web/guest/default/{name}"
    created = cli("route", "create", base, "/items/{id}", "GET", name)
    assert created.exit_code == 0, created.output
    listed = json.loads(cli("route", "list", "--base-path", base, "--json").stdout)
    assert [(r["verb"], r["relPath"], r["action"]) for r in listed] == [("GET", "/items/{id}", name)]
    with platform.client() as client:
        assert client.get(listed[0]["url"].replace("{id}", "42")).json() == {"item": "42"}
        assert client.get(f"{url}.json?id=7").json() == {"item": "7"}
    assert cli("route", "delete", base).exit_code == 0
    assert json.loads(cli("route", "list", "--base-path", base, "--json").stdout) == []
    missing = cli("route", "delete", base)
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_shell_completion_offers_action_names(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("completed")
    with platform.client() as client:
        client.put(f"/api/v1/namespaces/_/actions/{name}", json={"exec": {"kind": "python:3.11", "code": HELLO}})
    monkeypatch.setenv("STRATUS_APIHOST", platform.url)
    monkeypatch.setenv("STRATUS_AUTH", platform.key)
    monkeypatch.setenv("STRATUS_CONFIG_FILE", str(tmp_path / "config.json"))
    assert complete_action_name(name[:-2]) == [name]
    monkeypatch.setenv("STRATUS_APIHOST", "127.0.0.1:9")  # nothing listens: completion stays quiet
    assert complete_action_name("x") == []
