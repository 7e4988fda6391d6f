"""The Python SDK against a real platform: Client, AsyncClient, typed errors, remote functions."""

import base64
import hashlib
import importlib
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import pytest

from standalone.embedded import free_port
from stratus import AsyncClient, Client, RemoteFunctionError
from stratus.client import ActivationFailed, ConnectionFailed, NotFoundError
from stratus.client.errors import AuthenticationError, ConflictError
from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

ECHO = "def main(args):\n    print('echo', sorted(args))\n    return args\n"
FAILS = "def main(args):\n    raise RuntimeError('it broke')\n"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid4().hex[:8]}"


@pytest.fixture
def client(platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("STRATUS_CONFIG_FILE", str(tmp_path / "config.json"))  # no user config leaks in
    with Client(platform.url, platform.key) as c:
        yield c


def action(code: str) -> dict[str, Any]:
    return {"exec": {"kind": "python:3.11", "code": code}}


def test_actions_crud_and_invoke(client: Client) -> None:
    name = unique("echo")
    created = client.put_action(name, action(ECHO) | {"limits": {"memory": 128}})
    assert created["limits"]["memory"] == 128
    assert client.get_action(name, code=False)["exec"] == {"kind": "python:3.11", "binary": False}
    assert name in [a["name"] for a in client.list_actions(limit=0)]
    assert client.invoke(name, {"x": 1}, blocking=True, result=True) == {"x": 1}
    record = client.invoke(name, {"y": 2}, blocking=True)
    assert record["response"]["result"] == {"y": 2}
    started = client.invoke(name, {"z": 3})
    finished = client.wait_activation(started["activationId"])
    assert finished["response"]["result"] == {"z": 3}
    assert client.activation_result(started["activationId"])["result"] == {"z": 3}
    assert any(line.endswith("stdout: echo ['z']") for line in client.activation_logs(started["activationId"]))
    listed = client.list_activations(name=name)
    assert started["activationId"] in [r["activationId"] for r in listed]
    assert client.delete_action(name)["name"] == name
    with pytest.raises(NotFoundError) as gone:
        client.get_action(name)
    assert gone.value.status == 404 and gone.value.code and name in gone.value.error


def test_errors_are_typed_and_carry_what_the_api_said(client: Client, platform: Platform) -> None:
    name = unique("fails")
    client.put_action(name, action(FAILS))
    with pytest.raises(ConflictError) as conflict:
        client.put_action(name, action(FAILS))
    assert conflict.value.status == 409
    with pytest.raises(ActivationFailed) as failed:
        client.invoke(name, blocking=True)
    assert failed.value.status == 502 and failed.value.result == {"error": "it broke"}
    record = client.wait_activation(failed.value.activation_id or "")  # written just after the reply
    assert record["response"]["status"] == "application error"
    with pytest.raises(AuthenticationError), Client(platform.url, platform.key.split(":")[0] + ":wrong") as wrong:
        wrong.namespaces()
    with (
        pytest.raises(ConnectionFailed, match="is the platform running"),
        Client(f"127.0.0.1:{free_port()}", "u:k") as c,
    ):
        c.namespaces()


async def test_the_async_client_is_the_same_api(platform: Platform, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("STRATUS_CONFIG_FILE", str(tmp_path / "config.json"))
    name = unique("aecho")
    async with AsyncClient(platform.url, platform.key) as client:
        assert await client.namespaces() == ["guest"]
        await client.put_action(name, action(ECHO))
        assert await client.invoke(name, {"a": 1}, blocking=True, result=True) == {"a": 1}
        started = await client.invoke(name, {"b": 2})
        record = await client.wait_activation(started["activationId"])
        assert record["response"]["result"] == {"b": 2}
        assert await client.activation_logs(started["activationId"]) == record["logs"]
        await client.delete_action(name)
        with pytest.raises(NotFoundError):
            await client.get_action(name)


REMOTE_MODULE = """
from collections import Counter

import stratus

client = stratus.Client()


@client.function(name="{name}", memory_mb=128, timeout_s=50)
def most_common(words, top=1):
    return Counter(words).most_common(top)


@client.function(name="{name}-fails")
def fails(x):
    raise ValueError(f"bad {{x}}")


@client.function(name="{name}-dep", requirements=["stratus-demo-dep"])
def with_dependency(n):
    import stratus_demo_dep

    return stratus_demo_dep.VALUE + n
"""


@pytest.fixture
def remote(platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, str]]:
    """A user's module of remote functions, importable from a temp dir, configured by environment variables."""
    name = unique("remote")
    module_name = f"remote_{uuid4().hex[:8]}"
    (tmp_path / f"{module_name}.py").write_text(REMOTE_MODULE.format(name=name))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("STRATUS_APIHOST", platform.url)
    monkeypatch.setenv("STRATUS_AUTH", platform.key)
    monkeypatch.setenv("STRATUS_CONFIG_FILE", str(tmp_path / "config.json"))
    module = importlib.import_module(module_name)
    yield module, name
    module.client.close()
    sys.modules.pop(module_name, None)


def test_a_remote_function_deploys_once_and_runs_remotely(remote: tuple[ModuleType, str], platform: Platform) -> None:
    module, name = remote
    assert module.most_common(["a", "b", "a"]) == [["a", 2]]
    stored = module.client.get_action(name)
    assert stored["limits"]["memory"] == 128 and stored["limits"]["timeout"] == 50_000
    assert "def most_common(words, top=1)" in stored["exec"]["code"]
    assert "@client.function" not in stored["exec"]["code"]
    notes = {a["key"]: a["value"] for a in stored["annotations"]}
    assert notes["stratus-source-hash"] == module.most_common.hash
    assert module.most_common(["x", "y", "y"], top=2) == [["y", 2], ["x", 1]]
    assert module.most_common.deploy() is False  # same source: nothing written
    assert module.client.get_action(name, code=False)["updated"] == stored["updated"]


def test_a_changed_function_is_redeployed(remote: tuple[ModuleType, str]) -> None:
    module, name = remote
    module.most_common(["a"])
    before = module.client.get_action(name, code=False)
    changed = module.client.function(name=name, memory_mb=128, timeout_s=50)(module.fails)
    assert changed.deploy() is True
    after = module.client.get_action(name, code=False)
    assert after["version"] != before["version"]
    with pytest.raises(RemoteFunctionError):
        changed(1)


def test_a_raising_function_raises_with_its_activation(remote: tuple[ModuleType, str]) -> None:
    module, _ = remote
    with pytest.raises(RemoteFunctionError) as raised:
        module.fails(7)
    error = raised.value
    assert (error.remote_type, error.message) == ("ValueError", "bad 7")
    assert 'raise ValueError(f"bad {x}")' in error.remote_traceback
    record = module.client.wait_activation(error.activation_id or "")  # written just after the reply
    assert record["response"]["status"] == "application error"


async def test_async_call_and_spawn(remote: tuple[ModuleType, str]) -> None:
    module, _ = remote
    assert await module.most_common.async_call(["q", "q", "r"]) == [["q", 2]]
    handle = module.most_common.spawn(["s"])
    assert len(handle.activation_id) == 32
    assert handle.result(timeout_s=60) == [["s", 1]]
    failing = module.fails.spawn(1)
    with pytest.raises(RemoteFunctionError) as raised:
        failing.result(timeout_s=60)
    assert raised.value.activation_id == failing.activation_id


def test_requirements_are_installed_on_the_host_and_shipped(
    remote: tuple[ModuleType, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel in a local folder (as a mirror would serve it): pip on the host fetches it into the zip."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "stratus_demo_dep", "VALUE = 40\n")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    module, name = remote
    assert module.with_dependency(2) == 42
    stored = module.client.get_action(f"{name}-dep")
    assert stored["exec"]["binary"] is True
    notes = {a["key"]: a["value"] for a in stored["annotations"]}
    assert notes["stratus-requirements"] == ["stratus-demo-dep"]
    (tmp_path / "sent.zip").write_bytes(base64.b64decode(stored["exec"]["code"]))
    names = zipfile.ZipFile(tmp_path / "sent.zip").namelist()
    assert "__main__.py" in names
    assert "virtualenv/lib/python3.11/site-packages/stratus_demo_dep/__init__.py" in names


def write_wheel(folder: Path, package: str, init: str) -> None:
    """A minimal pure-Python wheel, valid for pip (RECORD with hashes)."""
    dist = package.replace("_", "-")
    info = f"{package}-1.0.dist-info"
    files = {
        f"{package}/__init__.py": init.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(folder / f"{package}-1.0-py3-none-any.whl", "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
