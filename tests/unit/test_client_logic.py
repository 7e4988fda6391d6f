"""SDK pure logic: settings precedence, error mapping, remote-function source and argument passing."""

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratus.client import calls
from stratus.client.errors import ActivationFailed, AuthenticationError, ConfigError, NotFoundError, ServerError
from stratus.client.settings import base_url, basic_auth, load_settings
from stratus.client.source import action_source, call_params, source_hash

MODULE = """
import json
import os.path as osp
from collections import Counter
from typing import Any


def decorate(fn):
    return fn


@decorate
def tally(words, *extra, top=1, **options):
    return {"top": Counter([*words, *extra]).most_common(top), "options": options}


def fails(x):
    raise ValueError(f"bad {x}")
"""


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    (tmp_path / "remote_mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import remote_mod

    yield remote_mod
    sys.modules.pop("remote_mod", None)


def run_remotely(source: str, params: dict[str, Any]) -> Any:
    """What the runtime does with the action: exec the source, call main with the (JSON) parameters."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "__main__.py", "exec"), namespace)
    return json.loads(json.dumps(namespace["main"](json.loads(json.dumps(params)))))


def test_the_source_has_only_the_imports_used_and_no_decorator(module: Any) -> None:
    source = action_source(module.tally)
    assert "from collections import Counter" in source
    assert "import os.path" not in source and "import json" not in source and "typing" not in source
    assert "@decorate" not in source


def test_arguments_travel_by_name_and_come_back_as_the_result(module: Any) -> None:
    params = call_params(module.tally, (["a", "b", "a"], "b", "b"), {"top": 2, "colour": "red"})
    assert params == {"words": ["a", "b", "a"], "extra": ["b", "b"], "top": 2, "colour": "red"}
    answer = run_remotely(action_source(module.tally), params)
    assert answer == {"result": {"top": [["b", 3], ["a", 2]], "options": {"colour": "red"}}}


def test_a_raised_exception_comes_back_as_an_error_with_its_traceback(module: Any) -> None:
    answer = run_remotely(action_source(module.fails), call_params(module.fails, (3,), {}))
    assert answer["error"]["type"] == "ValueError" and answer["error"]["message"] == "bad 3"
    assert "in fails" in answer["error"]["traceback"]


def test_wrong_arguments_fail_locally_before_anything_is_sent(module: Any) -> None:
    with pytest.raises(TypeError, match="fails"):
        call_params(module.fails, (1, 2), {})


def test_the_hash_changes_with_code_requirements_and_limits() -> None:
    base = source_hash("code", ["a"], {"memory": 128})
    assert base == source_hash("code", ["a"], {"memory": 128})
    others = {source_hash("code2", ["a"], {}), source_hash("code", ["b"], {}), source_hash("code", ["a"], {})}
    assert len(others | {base}) == 4


def test_arguments_beat_environment_beat_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"apihost": "file:1", "auth": "u:file", "namespace": "ns"}))
    monkeypatch.setenv("STRATUS_CONFIG_FILE", str(config))
    monkeypatch.delenv("STRATUS_APIHOST", raising=False)
    monkeypatch.setenv("STRATUS_AUTH", "u:env")
    settings = load_settings(apihost=None)
    assert (settings.apihost, settings.auth, settings.namespace) == ("file:1", "u:env", "ns")
    assert load_settings(auth="u:arg").auth == "u:arg"


def test_hosts_without_a_scheme_get_http_on_loopback_and_https_elsewhere() -> None:
    assert base_url("127.0.0.1:3233") == "http://127.0.0.1:3233"
    assert base_url("localhost:3233/") == "http://localhost:3233"
    assert base_url("faas.example.com") == "https://faas.example.com"
    with pytest.raises(ConfigError, match="stratus property set --apihost"):
        base_url("")
    with pytest.raises(ConfigError, match="UUID:KEY"):
        basic_auth("no-colon")


def answer(method: str, status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request(method, "http://x/api/v1/namespaces/_/actions/a")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_error_answers_become_typed_errors_with_status_text_and_code() -> None:
    with pytest.raises(NotFoundError) as caught:
        calls.check(answer("GET", 404, {"error": "The requested action 'a' does not exist.", "code": "tid1"}))
    assert (caught.value.status, caught.value.code) == (404, "tid1")
    assert caught.value.error == "The requested action 'a' does not exist."
    with pytest.raises(AuthenticationError):
        calls.check(answer("GET", 401, {"error": "nope", "code": "t"}))
    with pytest.raises(ServerError):
        calls.check(answer("GET", 503, {"error": "busy", "code": "t"}))


def test_a_failed_blocking_invoke_carries_the_activation_id_and_result() -> None:
    record = {"activationId": "a" * 32, "response": {"status": "application error", "result": {"error": "boom"}}}
    with pytest.raises(ActivationFailed) as caught:
        calls.check(answer("POST", 502, record, {calls.ACTIVATION_HEADER: "a" * 32}))
    assert caught.value.activation_id == "a" * 32
    assert caught.value.result == {"error": "boom"}
    assert "application error" in str(caught.value) and "boom" in str(caught.value)
