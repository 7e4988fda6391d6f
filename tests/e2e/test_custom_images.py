"""Custom images (OpenWhisk's blackbox kind): built offline with `stratus image build-action`, named by
actions through the API; an image missing from the engine is a clear error record."""

from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from standalone.cli.main import app
from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

TAG = "stratus-test/custom-jq-orjson:1"
BAKED_TAG = "stratus-test/custom-baked:1"
USES_BOTH = """
import subprocess
import orjson

def main(args):
    piped = subprocess.run(["jq", "-c", ".items | length"], input=orjson.dumps(args), capture_output=True)
    return {"count": int(piped.stdout), "orjson": orjson.__name__}
"""


def build_action(*args: str) -> None:
    result = CliRunner().invoke(app, ["image", "build-action", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Both images, built for this module. They stay on the engine, like the runtime images, so that a
    later run's build finds its layers cached (apt-get update alone takes a while)."""
    folder = tmp_path_factory.mktemp("custom")
    (folder / "requirements.txt").write_text("orjson\n")
    build_action(TAG, "--requirements", str(folder / "requirements.txt"), "--apt", "jq")
    (folder / "code").mkdir()
    (folder / "code" / "__main__.py").write_text(
        "import orjson\ndef main(a):\n    return {'baked': orjson.dumps(a).decode()}\n"
    )
    build_action(BAKED_TAG, "--requirements", str(folder / "requirements.txt"), "--code", str(folder / "code"))


def blackbox(platform: Platform, exec_: dict[str, object]) -> tuple[int, dict[str, object]]:
    name = f"custom-{uuid4().hex[:8]}"
    with platform.client() as client:
        client.put(
            f"/api/v1/namespaces/_/actions/{name}", json={"exec": {"kind": "blackbox", **exec_}}
        ).raise_for_status()
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={"items": [1, 2, 3]})
    return answer.status_code, answer.json()


def test_an_image_with_python_and_debian_packages_runs_the_actions_code(platform: Platform, images: None) -> None:
    status, record = blackbox(platform, {"image": TAG, "code": USES_BOTH})
    assert status == 200, record
    assert record["response"]["result"] == {"count": 3, "orjson": "orjson"}  # type: ignore[index]


def test_an_image_with_the_code_baked_in_needs_none(platform: Platform, images: None) -> None:
    status, record = blackbox(platform, {"image": BAKED_TAG})
    assert status == 200, record
    assert record["response"]["result"] == {"baked": '{"items":[1,2,3]}'}  # type: ignore[index]


def test_an_image_missing_from_the_engine_is_a_developer_error_naming_it(platform: Platform, tmp_path: Path) -> None:
    status, record = blackbox(platform, {"image": "stratus-test/never-built:0", "code": "def main(a):\n    return a\n"})
    error = record["response"]["result"]["error"]  # type: ignore[index]
    assert status == 502 and record["response"]["status"] == "action developer error"  # type: ignore[index]
    assert "stratus-test/never-built:0" in error and "stratus image build-action" in error
