"""The CLI and the SDK for packages, bindings, sequences, triggers, rules and alarms, on a running platform."""

import json
import time
from pathlib import Path
from uuid import uuid4

import pytest

from stratus.client import Client
from tests.e2e.cli_runner import Cli
from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

ADD = "def main(args):\n    return {'n': args.get('n', 0) + args.get('step', 1)}\n"


@pytest.fixture
def cli(platform: Platform, tmp_path: Path) -> Cli:
    return Cli(platform, tmp_path / "config" / "config.json")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def ok(result: object) -> str:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return str(result.stdout)  # type: ignore[attr-defined]


def test_cli_packages_sequences_triggers_and_rules(cli: Cli, platform: Platform, tmp_path: Path) -> None:
    code = tmp_path / "add.py"
    code.write_text(ADD)
    pkg, bound, seq = unique("pkg"), unique("bound"), unique("seq")
    ok(cli("package", "create", pkg, "-p", "step", "2"))
    ok(cli("action", "create", f"{pkg}/add", str(code)))
    ok(cli("package", "bind", pkg, bound, "-p", "step", "100"))
    assert json.loads(ok(cli("package", "get", pkg)))["actions"][0]["name"] == "add"
    assert bound in ok(cli("package", "list"))
    ok(cli("action", "create", seq, "--sequence", f"{pkg}/add,{bound}/add"))
    result = json.loads(ok(cli("action", "invoke", seq, "-p", "n", "1", "--result")))
    assert result == {"n": 103}
    refused = cli("package", "delete", pkg)
    assert refused.exit_code != 0 and "force" in refused.output

    trigger, rule = unique("t"), unique("r")
    ok(cli("trigger", "create", trigger, "-p", "n", "5"))
    ok(cli("rule", "create", rule, trigger, seq))
    assert "active" in ok(cli("rule", "list"))
    fired = ok(cli("trigger", "fire", trigger, "-p", "step", "1"))
    assert "activation id" in fired
    ok(cli("rule", "disable", rule))
    assert "nothing ran" in ok(cli("trigger", "fire", trigger))
    ok(cli("rule", "enable", rule))
    assert json.loads(ok(cli("rule", "get", rule)))["status"] == "active"

    alarm = unique("alarm")
    ok(cli("trigger", "create", alarm, "--feed", "/whisk.system/alarms/alarm", "-p", "cron", "*/2 * * * * *"))
    assert json.loads(ok(cli("trigger", "get", alarm)))["annotations"][0]["value"] == "/whisk.system/alarms/alarm"
    bad = cli("trigger", "create", unique("bad"), "--feed", "/whisk.system/alarms/alarm", "-p", "cron", "nope")
    assert bad.exit_code != 0
    ok(cli("trigger", "delete", alarm))
    ok(cli("rule", "delete", rule))
    ok(cli("trigger", "delete", trigger))
    ok(cli("package", "delete", bound))
    ok(cli("action", "delete", seq))
    ok(cli("package", "delete", pkg, "--force"))


def test_sdk_triggers_rules_and_alarms(platform: Platform) -> None:
    with Client(platform.url, platform.key) as client:
        pkg = unique("pkg")
        client.put_package(pkg, {"parameters": [{"key": "step", "value": 3}]})
        client.put_action(f"{pkg}/add", {"exec": {"kind": "python:3.11", "code": ADD}})
        assert client.invoke(f"{pkg}/add", {"n": 1}, blocking=True, result=True) == {"n": 4}
        trigger, rule = unique("t"), unique("r")
        client.put_trigger(trigger, {"annotations": [{"key": "feed", "value": "/whisk.system/alarms/alarm"}]})
        assert client.fire_trigger(trigger) is None
        client.put_rule(rule, trigger, f"{pkg}/add")
        activation_id = client.fire_trigger(trigger, {"n": 10})
        assert activation_id is not None
        record = client.wait_activation(activation_id)
        caused = json.loads(record["logs"][0])["activationId"]
        assert client.wait_activation(caused)["response"]["result"] == {"n": 13}
        client.feed("/whisk.system/alarms/alarm", "CREATE", f"/_/{trigger}", {"cron": "* * * * * *"})
        deadline = time.monotonic() + 20
        while len(client.list_activations(name=trigger)) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(client.list_activations(name=trigger)) >= 3  # the manual firing and two ticks
        client.feed("/whisk.system/alarms/alarm", "DELETE", f"/_/{trigger}")
        client.set_rule_status(rule, "inactive")
        assert client.get_entity("rules", rule)["status"] == "inactive"
        assert [r["name"] for r in client.list_entities("rules", limit=0)].count(rule) == 1
        client.delete_entity("rules", rule)
        client.delete_entity("triggers", trigger)
        client.delete_entity("packages", pkg, force=True)
