"""The action proxy in-process (httpx.ASGITransport): OpenWhisk's /init and /run protocol, plus the envelope."""

import asyncio
import base64
import io
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from actionproxy.app import create_app
from actionproxy.errors import InitError
from actionproxy.logcapture import SENTINEL, ActivationLog, RoutingStream
from actionproxy.runner import ActionRunner
from actionproxy.unpack import check_fits

ENVELOPE = {"X-Stratus-Envelope": "1"}
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (stdout|stderr): (.*)$", re.DOTALL)


@pytest.fixture(autouse=True)
def process_state() -> Iterator[None]:
    """The proxy owns its process: keep what it changes (path, environment, the actions' modules) to each test."""
    path, environ, cwd, handlers = list(sys.path), dict(os.environ), os.getcwd(), list(logging.getLogger().handlers)
    yield
    os.chdir(cwd)  # /init makes the action's home the working directory
    logging.getLogger().handlers[:] = handlers  # a Lambda handler's /init adds Lambda's log handler
    actions = os.path.join(tempfile.gettempdir(), "action-")
    for entry in set(sys.path) - set(path):
        if entry.startswith(actions):
            shutil.rmtree(entry, ignore_errors=True)  # each action's home is put on the path
    sys.path[:] = path
    os.environ.clear()
    os.environ.update(environ)
    for name, module in list(sys.modules.items()):
        if name == "main__" or (getattr(module, "__file__", None) or "").startswith(actions):
            del sys.modules[name]


@pytest.fixture
async def proxy() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy") as client:
            yield client
    finally:
        app.close()
    assert not isinstance(sys.stdout, RoutingStream) and not isinstance(sys.stderr, RoutingStream)


async def init(client: httpx.AsyncClient, code: str, **value: Any) -> httpx.Response:
    body = {"value": {"name": "t", "main": "main", "binary": False, "code": code, "env": {}} | value}
    return await client.post("/init", json=body, headers=ENVELOPE)


async def run(client: httpx.AsyncClient, params: Any, **context: Any) -> httpx.Response:
    body = {
        "value": params,
        "namespace": "ns",
        "action_name": "/ns/t",
        "action_version": "0.0.1",
        "activation_id": "a" * 32,
        "transaction_id": "tid",
        "deadline": "99999999999999",
    } | context
    return await client.post("/run", json=body, headers=ENVELOPE)


def texts(answer: httpx.Response, stream: str | None = None) -> list[str]:
    """The envelope's log lines without their timestamps, as '<stream>: <text>' or, given a stream, '<text>'."""
    found = []
    for line in answer.json()["logs"]:
        match = LINE.match(line)
        assert match, f"not a log line: {line!r}"
        if stream is None:
            found.append(f"{match[1]}: {match[2]}")
        elif match[1] == stream:
            found.append(match[2])
    return found


def zipped(files: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


# /init


async def test_source_init_and_run_with_params(proxy: httpx.AsyncClient) -> None:
    started = await init(proxy, "def main(args):\n    return {'hi': args['name']}\n")
    assert started.status_code == 200 and started.json() == {"result": {"ok": True}, "logs": []}
    answer = await run(proxy, {"name": "x"})
    assert answer.status_code == 200
    assert answer.json() == {"result": {"hi": "x"}, "logs": []}


async def test_custom_entry_point_and_list_result(proxy: httpx.AsyncClient) -> None:
    assert (await init(proxy, "def handler(args):\n    return [1, 2]\n", main="handler")).status_code == 200
    answer = await run(proxy, {})
    assert answer.status_code == 200 and answer.json()["result"] == [1, 2]


async def test_zip_with_a_helper_module(proxy: httpx.AsyncClient) -> None:
    code = zipped(
        {
            "__main__.py": "from helper import twice\ndef main(a):\n    return {'v': twice(a['v'])}\n",
            "helper.py": "def twice(x):\n    return 2 * x\n",
        }
    )
    assert (await init(proxy, code, binary=True)).status_code == 200
    assert (await run(proxy, {"v": 21})).json()["result"] == {"v": 42}


async def test_zip_with_a_virtualenv_imports_its_packages(proxy: httpx.AsyncClient) -> None:
    code = zipped(
        {
            "__main__.py": "import vendored_dep_xyz\ndef main(a):\n    return {'v': vendored_dep_xyz.VALUE}\n",
            "virtualenv/lib/python3.11/site-packages/vendored_dep_xyz.py": "VALUE = 7\n",
        }
    )
    assert (await init(proxy, code, binary=True)).status_code == 200
    assert (await run(proxy, {})).json()["result"] == {"v": 7}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (zipped({"other.py": "x = 1\n"}), "__main__.py"),
        (zipped({"app/__main__.py": "x = 1\n"}), "found app/__main__.py"),
        (base64.b64encode(b"not a zip at all").decode(), "not a base64-encoded zip"),
    ],
    ids=["no-main-module", "nested-folder", "not-a-zip"],
)
async def test_bad_zip_fails_init_with_502(proxy: httpx.AsyncClient, code: str, expected: str) -> None:
    answer = await init(proxy, code, binary=True)
    assert answer.status_code == 502 and expected in answer.json()["result"]["error"]


async def test_init_only_once(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    return {}\n")
    again = await init(proxy, "def main(a):\n    return {}\n")
    assert again.status_code == 403 and "twice" in again.json()["result"]["error"]


@pytest.mark.parametrize("body", [{"value": {"code": ""}}, {"value": {"code": "   "}}, {"value": {}}, {}])
async def test_init_without_code_is_403(proxy: httpx.AsyncClient, body: dict[str, Any]) -> None:
    answer = await proxy.post("/init", json=body, headers=ENVELOPE)
    assert answer.status_code == 403 and "no code" in answer.json()["result"]["error"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def main(args)\n    return {}\n", "SyntaxError"),
        ("import no_such_module_here\ndef main(a):\n    return {}\n", "ModuleNotFoundError"),
        ("def other(a):\n    return {}\n", "entry point 'main'"),
        ("main = 3\n", "not a function"),
        ("raise RuntimeError('at import')\n", "RuntimeError: at import"),
        ("import sys\nsys.exit(3)\n", "exit"),
    ],
    ids=["syntax", "import", "no-entry-point", "not-callable", "raises", "exits"],
)
async def test_bad_code_fails_init_with_502_and_explains_on_stderr(
    proxy: httpx.AsyncClient, code: str, expected: str
) -> None:
    answer = await init(proxy, code)
    assert answer.status_code == 502
    assert expected in answer.json()["result"]["error"]
    assert texts(answer, "stderr"), "the details go to stderr"


async def test_import_failure_logs_the_output_and_the_users_own_traceback(proxy: httpx.AsyncClient) -> None:
    answer = await init(proxy, "print('loading')\ndef helper():\n    raise ImportError('missing thing')\nhelper()\n")
    assert answer.status_code == 502 and "missing thing" in answer.json()["result"]["error"]
    logs = texts(answer)
    assert logs[0] == "stdout: loading"
    stderr = "\n".join(texts(answer, "stderr"))
    assert stderr.startswith("Traceback") and "in helper" in stderr and "actionproxy" not in stderr


async def test_run_before_init_and_after_a_failed_init_is_500(proxy: httpx.AsyncClient) -> None:
    assert (await run(proxy, {})).status_code == 500
    await init(proxy, "def main(args)\n")
    answer = await run(proxy, {})
    assert answer.status_code == 500 and "error" in answer.json()["result"]


# /run


async def test_exception_is_an_application_error_with_the_traceback_in_stderr(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    raise ValueError('boom')\n")
    answer = await run(proxy, {})
    assert answer.status_code == 200
    assert answer.json()["result"] == {"error": "boom"}
    stderr = texts(answer, "stderr")
    assert stderr[0] == "Traceback (most recent call last):" and stderr[-1] == "ValueError: boom"
    assert not any("actionproxy" in line for line in stderr), "the proxy's own frames are left out"


async def test_exception_without_a_message_reports_its_type(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    raise KeyError\n")
    answer = await run(proxy, {})
    assert answer.status_code == 200 and answer.json()["result"] == {"error": "KeyError"}


async def test_exit_in_the_function_is_502_and_the_proxy_keeps_serving(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "import sys\ndef main(a):\n    if a.get('exit'):\n        sys.exit(1)\n    return {}\n")
    assert (await run(proxy, {"exit": True})).status_code == 502
    assert (await run(proxy, {})).status_code == 200


@pytest.mark.parametrize("result", ["None", "42", "'text'", "(1, 2)"])
async def test_non_dict_result_is_502(proxy: httpx.AsyncClient, result: str) -> None:
    await init(proxy, f"def main(a):\n    return {result}\n")
    answer = await run(proxy, {})
    assert answer.status_code == 502 and "dictionary or array" in answer.json()["result"]["error"]


@pytest.mark.parametrize("result", ["{'x': object()}", "{'x': float('nan')}"])
async def test_unserializable_result_is_502(proxy: httpx.AsyncClient, result: str) -> None:
    await init(proxy, f"def main(a):\n    return {result}\n")
    answer = await run(proxy, {})
    assert answer.status_code == 502 and "JSON" in answer.json()["result"]["error"]


async def test_result_with_an_error_field_passes_through(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    return {'error': 'on purpose', 'ü': 1}\n")
    answer = await run(proxy, {})
    assert answer.status_code == 200 and answer.json()["result"] == {"error": "on purpose", "ü": 1}


async def test_array_params_reach_the_function(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    return {'got': a}\n")
    assert (await run(proxy, [1, "two"])).json()["result"] == {"got": [1, "two"]}


async def test_async_main_is_awaited(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "import asyncio\nasync def main(a):\n    await asyncio.sleep(0)\n    return {'async': True}\n")
    assert (await run(proxy, {})).json()["result"] == {"async": True}


async def test_context_and_init_env_reach_the_function(proxy: httpx.AsyncClient) -> None:
    code = (
        "import os\n"
        "def main(a):\n"
        "    return {'id': os.environ['__OW_ACTIVATION_ID'], 'deadline': os.environ['__OW_DEADLINE'],\n"
        "            'secret': os.environ['SECRET']}\n"
    )
    await init(proxy, code, env={"SECRET": "s3"})
    answer = await run(proxy, {}, activation_id="b" * 32, deadline="1700000060000")
    assert answer.json()["result"] == {"id": "b" * 32, "deadline": "1700000060000", "secret": "s3"}


def anonymous_memory_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"RssAnon:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


def test_a_warm_container_does_not_grow_with_each_activation() -> None:
    """Each /run's context reaches os.environ without the C environment's setenv(), which keeps every value
    it was ever given: that leaked ≈ 230 bytes per activation (a 128 MB container ran out of memory after
    ≈ 500,000). 60,000 runs would leak ≈ 13 MB that way; the bound leaves room for the allocator."""
    runner = ActionRunner()
    code = "import os\ndef main(a):\n    return {'id': os.environ['__OW_ACTIVATION_ID']}\n"
    assert runner.init({"code": code, "main": "main"}, ActivationLog()).status == 200

    def runs(first: int, n: int) -> None:
        for i in range(first, first + n):
            context = {
                "activation_id": f"{i:032x}",
                "transaction_id": f"t{i:031x}",
                "deadline": str(1_700_000_000_000 + i),
            }
            answer = runner.run({"value": {}} | context, ActivationLog())
            assert answer.body == b'{"id":"%032x"}' % i

    runs(0, 5_000)  # the allocator's pools and the interpreter's caches settle
    before = anonymous_memory_kb()
    runs(5_000, 60_000)
    assert anonymous_memory_kb() - before < 3_000


def test_a_child_process_gets_the_activation_context_from_os_environ() -> None:
    runner = ActionRunner()
    code = (
        "import os, subprocess, sys\n"
        "def main(a):\n"
        "    child = [sys.executable, '-c', 'import os; print(os.environ[\\'__OW_ACTIVATION_ID\\'])']\n"
        "    return {'child': subprocess.run(child, env=os.environ, capture_output=True, text=True).stdout.strip()}\n"
    )
    assert runner.init({"code": code, "main": "main"}, ActivationLog()).status == 200
    answer = runner.run({"value": {}, "activation_id": "c" * 32}, ActivationLog())
    assert answer.body == b'{"child":"' + b"c" * 32 + b'"}'


async def test_bad_json_is_400(proxy: httpx.AsyncClient) -> None:
    for path in ("/init", "/run"):
        answer = await proxy.post(path, content=b"{nope", headers=ENVELOPE)
        assert answer.status_code == 400 and "error" in answer.json()["result"]


async def test_ping(proxy: httpx.AsyncClient) -> None:
    answer = await proxy.get("/ping")
    assert answer.status_code == 200 and answer.json() == {"ok": True}


# logs and concurrency


async def test_logs_have_timestamps_and_stream_names_in_order(proxy: httpx.AsyncClient) -> None:
    code = (
        "import sys\n"
        "print('at import')\n"
        "def main(a):\n"
        "    print('out')\n"
        "    print('err', file=sys.stderr)\n"
        "    sys.stdout.write('par')\n"
        "    sys.stdout.write('tial')\n"
        "    return {}\n"
    )
    assert texts(await init(proxy, code)) == ["stdout: at import"]
    assert texts(await run(proxy, {})) == ["stdout: out", "stderr: err", "stdout: partial"]
    assert texts(await run(proxy, {})) == ["stdout: out", "stderr: err", "stdout: partial"]


async def test_concurrent_activations_keep_their_own_interleaved_logs(proxy: httpx.AsyncClient) -> None:
    code = (
        "import threading\n"
        "together = threading.Barrier(3, timeout=10)\n"
        "def main(a):\n"
        "    for i in range(5):\n"
        "        print(a['who'], i)\n"
        "        together.wait()\n"  # all three print line i before any prints line i + 1
        "    return {'who': a['who']}\n"
    )
    await init(proxy, code)
    names = ("left", "right", "middle")
    answers = await asyncio.gather(*(run(proxy, {"who": who}) for who in names))
    for who, answer in zip(names, answers, strict=True):
        assert answer.json()["result"] == {"who": who}
        assert texts(answer, "stdout") == [f"{who} {i}" for i in range(5)]


async def test_concurrent_async_activations_keep_their_own_logs(proxy: httpx.AsyncClient) -> None:
    code = (
        "import asyncio\n"
        "together = None\n"
        "async def main(a):\n"
        "    global together\n"
        "    together = together or asyncio.Barrier(2)\n"
        "    for i in range(3):\n"
        "        print(a['who'], i)\n"
        "        await together.wait()\n"
        "    return {}\n"
    )
    await init(proxy, code)
    left, right = await asyncio.gather(run(proxy, {"who": "left"}), run(proxy, {"who": "right"}))
    assert texts(left, "stdout") == ["left 0", "left 1", "left 2"]
    assert texts(right, "stdout") == ["right 0", "right 1", "right 2"]


async def test_a_blocked_sync_function_does_not_block_another_run(proxy: httpx.AsyncClient) -> None:
    code = (
        "import threading\n"
        "started, release = threading.Event(), threading.Event()\n"
        "def main(a):\n"
        "    if a.get('slow'):\n"
        "        started.set()\n"
        "        return {'released': release.wait(10)}\n"
        "    started.wait(10)\n"
        "    release.set()\n"
        "    return {'fast': True}\n"
    )
    await init(proxy, code)
    slow = asyncio.create_task(run(proxy, {"slow": True}))
    fast = await run(proxy, {})  # can only finish while the slow one is still waiting on `release`
    assert fast.json()["result"] == {"fast": True}
    assert (await slow).json()["result"] == {"released": True}


def test_activation_log_caps_its_size_and_stays_linear_on_tiny_writes() -> None:
    activation = ActivationLog(max_bytes=1000)
    for _ in range(50_000):
        activation.write("stdout", "x")
    lines = activation.close()
    assert activation.truncated and len(lines) == 1 and "1000 bytes" in lines[0]
    assert activation.write("stdout", "late\n") is False, "after close, writes go to the real stream"


def test_activation_log_flushes_partial_lines_per_stream() -> None:
    activation = ActivationLog()
    activation.write("stdout", "a\nb")
    activation.write("stderr", "c\n\nd")
    activation.write("stdout", "c\n")
    assert [LINE.match(line)[2] for line in activation.close()] == ["a", "c", "", "bc", "d"]  # type: ignore[index]


# the two response modes


async def test_openwhisk_mode_answers_plainly_and_writes_logs_then_sentinels() -> None:
    out, err = io.StringIO(), io.StringIO()
    app = create_app(real_streams=(out, err))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
            code = "import sys\nprint('init')\ndef main(a):\n    print('hey')\n    print('oops', file=sys.stderr)\n"
            code += "    return {'a': 1}\n"
            assert (await client.post("/init", json={"value": {"code": code}})).json() == {"ok": True}
            answer = await client.post("/run", json={"value": {}})
    finally:
        app.close()
    assert answer.status_code == 200 and answer.json() == {"a": 1}
    assert out.getvalue().splitlines() == ["init", "hey", SENTINEL]  # a successful /init writes no sentinel
    assert err.getvalue().splitlines() == ["oops", SENTINEL]


async def test_openwhisk_mode_writes_sentinels_after_a_failed_init() -> None:
    out, err = io.StringIO(), io.StringIO()
    app = create_app(real_streams=(out, err))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
            answer = await client.post("/init", json={"value": {"code": "raise RuntimeError('no')\n"}})
    finally:
        app.close()
    assert answer.status_code == 502 and "no" in answer.json()["error"]
    assert out.getvalue().splitlines() == [SENTINEL]
    assert err.getvalue().splitlines()[-2:] == ["RuntimeError: no", SENTINEL]


async def test_envelope_mode_writes_nothing_to_the_real_streams() -> None:
    out, err = io.StringIO(), io.StringIO()
    app = create_app(real_streams=(out, err))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
            await init(client, "def main(a):\n    print('hey')\n    return {}\n")
            answer = await run(client, {})
    finally:
        app.close()
    assert texts(answer) == ["stdout: hey"]
    assert out.getvalue() == "" and err.getvalue() == ""


# Lambda-style handlers (actionproxy.lambdas), the code's home, code baked into the image

LAMBDA = (
    "import json, logging, os\n"
    "logger = logging.getLogger()\n"
    "logger.setLevel(logging.INFO)\n"
    "def lambda_handler(event, context):\n"
    "    logger.info('got %s', json.dumps(event))\n"
    "    return {'event': event, 'request': context.aws_request_id, 'name': context.function_name,\n"
    "            'version': context.function_version, 'arn': context.invoked_function_arn,\n"
    "            'memory': context.memory_limit_in_mb, 'group': context.log_group_name,\n"
    "            'left': context.get_remaining_time_in_millis(), 'cwd': os.getcwd()}\n"
)


async def test_a_lambda_handler_gets_the_event_and_a_context(proxy: httpx.AsyncClient) -> None:
    started = await init(proxy, LAMBDA, handler="lambda_function.lambda_handler")
    assert started.status_code == 200, started.text
    deadline = int(time.time() * 1000) + 30_000
    answer = await run(proxy, {"x": 1}, action_name="/ns/pkg/thumbs", deadline=str(deadline))
    result = answer.json()["result"]
    assert result["event"] == {"x": 1} and result["request"] == "a" * 32
    assert (result["name"], result["version"]) == ("thumbs", "0.0.1")
    assert result["arn"].endswith(":ns:function:ns/pkg/thumbs") and result["group"] == "/stratus/ns/pkg/thumbs"
    assert 20_000 < result["left"] <= 30_000
    assert result["cwd"].startswith(os.path.join(tempfile.gettempdir(), "action-"))  # its code's home
    [line] = texts(answer, "stdout")
    assert line.startswith("[INFO]\t") and line.endswith("\t" + "a" * 32 + '\tgot {"x": 1}')


async def test_a_lambda_zip_needs_no_main_module_and_reads_its_own_files(proxy: httpx.AsyncClient) -> None:
    code = zipped(
        {
            "src/app.py": "def handler(event, context):\n    return open('data/greeting.txt').read().strip()\n",
            "data/greeting.txt": "hello\n",
        }
    )
    assert (await init(proxy, code, binary=True, handler="src/app.handler")).status_code == 200
    assert (await run(proxy, {})).json()["result"] == {"result": "hello"}  # not a dict: wrapped


async def test_a_lambda_returning_none_gives_a_null_result(proxy: httpx.AsyncClient) -> None:
    assert (await init(proxy, "def h(event, context):\n    pass\n", handler="m.h")).status_code == 200
    assert (await run(proxy, {})).json()["result"] == {"result": None}


@pytest.mark.parametrize(
    ("handler", "expected"),
    [("nodot", "not 'module.function'"), ("missing.handler", "no missing.py"), ("m.other", "no entry point 'other'")],
)
async def test_a_bad_handler_fails_init_saying_why(proxy: httpx.AsyncClient, handler: str, expected: str) -> None:
    code = zipped({"m.py": "def h(event, context):\n    return {}\n"})
    answer = await init(proxy, code, binary=True, handler=handler)
    assert answer.status_code == 502 and expected in answer.json()["result"]["error"]


async def test_a_web_request_reaches_a_lambda_as_an_api_gateway_v2_event(proxy: httpx.AsyncClient) -> None:
    code = (
        "import base64, json\n"
        "def handler(event, context):\n"
        "    body = base64.b64decode(event['body']) if event['isBase64Encoded'] else event['body']\n"
        "    return {'statusCode': 201, 'headers': {'content-type': 'image/png', 'x-seen': event['rawPath']},\n"
        "            'cookies': ['a=1', 'b=2'], 'isBase64Encoded': True,\n"
        "            'body': base64.b64encode(body[::-1]).decode()}\n"
    )
    assert (await init(proxy, code, handler="web.handler")).status_code == 200
    params = {
        "__ow_method": "post",
        "__ow_path": "/img/1",
        "__ow_headers": {"content-type": "application/octet-stream", "cookie": "s=1; t=2"},
        "__ow_query": "size=2&size=3",
        "__ow_body": base64.b64encode(b"\x00\x01\xff").decode(),
    }
    result = (await run(proxy, params)).json()["result"]
    assert result["statusCode"] == 201
    assert result["headers"] == {"content-type": "image/png", "x-seen": "/img/1", "set-cookie": ["a=1", "b=2"]}
    assert base64.b64decode(result["body"]) == b"\xff\x01\x00"


async def test_the_code_is_the_working_directory_and_may_write_there(proxy: httpx.AsyncClient) -> None:
    code = (
        "import os\ndef main(a):\n    open('note.txt', 'w').write('x')\n    return {'files': sorted(os.listdir('.'))}\n"
    )
    assert (await init(proxy, code)).status_code == 200
    assert (await run(proxy, {})).json()["result"] == {"files": ["__main__.py", "note.txt"]}


async def test_code_baked_into_the_image_serves_an_init_without_code(
    proxy: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "__main__.py").write_text("def main(a):\n    return {'baked': True}\n")
    monkeypatch.setenv("STRATUS_ACTION_CODE", str(tmp_path))
    answer = await proxy.post("/init", json={"value": {"main": "main"}}, headers=ENVELOPE)
    assert answer.status_code == 200, answer.text
    assert (await run(proxy, {})).json()["result"] == {"baked": True}


def test_a_zip_larger_than_the_space_for_code_is_refused_before_unpacking(tmp_path: Path) -> None:
    with pytest.raises(InitError, match="unpacks to .* MB, more than the .* MB of space"):
        check_fits(shutil.disk_usage(tmp_path).free + 1, str(tmp_path), in_memory=False)
