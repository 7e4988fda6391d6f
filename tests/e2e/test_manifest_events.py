"""Manifests with packages, a binding, a sequence, a trigger on an alarm and a rule: deployed, left alone
when unchanged, updated field by field, undeployed."""

import json
import time
from pathlib import Path
from uuid import uuid4

from tests.e2e.cli_runner import Cli
from tests.e2e.conftest import Platform
from tests.e2e.test_manifest import changes

MANIFEST = """
packages:
  {p}-math: {{params: {{step: {step}}}}}
  {p}-bound: {{binding: {p}-math, params: {{step: 100}}}}
actions:
  {p}-both:
    sequence: [{p}-math/add, {p}-bound/add]
  {p}-math/add:
    code: add.py
triggers:
  {p}-tick:
    params: {{n: 1}}
    feed: /whisk.system/alarms/alarm
    feed_params: {{cron: "*/2 * * * * *"}}
rules:
  {p}-on-tick: {{trigger: {p}-tick, action: {p}-both}}
"""
ADD = "def main(args):\n    return {'n': args.get('n', 0) + args['step']}\n"


def test_deploy_the_event_model(platform: Platform, tmp_path: Path) -> None:
    p = f"e{uuid4().hex[:8]}"
    (tmp_path / "add.py").write_text(ADD)
    manifest = tmp_path / "stratus.yaml"
    manifest.write_text(MANIFEST.format(p=p, step=2))
    cli = Cli(platform, tmp_path / "config.json")
    names = [f"{p}-math", f"{p}-bound", f"{p}-math/add", f"{p}-both", f"{p}-tick", f"{p}-on-tick"]
    assert changes(cli, "deploy", str(manifest)) == dict.fromkeys(names, "created")
    assert changes(cli, "deploy", str(manifest)) == dict.fromkeys(names, "unchanged")

    with platform.client() as client:
        answer = client.post(f"/api/v1/namespaces/_/actions/{p}-both?blocking=true&result=true", json={"n": 1})
        assert answer.json() == {"n": 103}
        deadline = time.monotonic() + 20
        fired: list[dict[str, object]] = []
        while time.monotonic() < deadline and not fired:
            fired = client.get(f"/api/v1/namespaces/_/activations?name={p}-tick&docs=true").json()
            time.sleep(0.5)
        assert fired and json.loads(fired[0]["logs"][0])["rule"] == f"guest/{p}-on-tick"  # type: ignore[index]

    manifest.write_text(MANIFEST.format(p=p, step=3))
    done = changes(cli, "deploy", str(manifest))
    assert done[f"{p}-math"] == "updated" and done[f"{p}-both"] == "unchanged"
    undone = changes(cli, "undeploy", str(manifest))
    assert set(undone.values()) == {"deleted"}
    with platform.client() as client:
        assert client.get(f"/api/v1/namespaces/_/packages/{p}-math").status_code == 404
        assert client.get(f"/api/v1/namespaces/_/triggers/{p}-tick").status_code == 404
