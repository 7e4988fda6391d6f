"""The action proxy in-process (httpx.ASGITransport): OpenWhisk's /init and /run protocol."""

import asyncio
import base64
import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from actionproxy.app import create_app
from actionproxy.logcapture import SENTINEL

ENVELOPE = {"X-Stratus-Envelope": "1"}


@pytest.fixture
async def proxy() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy") as client:
            yield client
    finally:
        app.state.close()


async def init(client: httpx.AsyncClient, code: str, **value: Any) -> httpx.Response:
    body = {"value": {"name": "t", "main": "main", "binary": False, "code": code, "env": {}} | value}
    return await client.post("/init", json=body, headers=ENVELOPE)


async def run(client: httpx.AsyncClient, params: dict[str, Any], **context: Any) -> httpx.Response:
    body = {
        "value": params,
        "activation_id": "a" * 32,
        "namespace": "ns",
        "action_name": "/ns/t",
        "deadline": "99999999999999",
    } | context
    return await client.post("/run", json=body, headers=ENVELOPE)


async def test_source_init_and_run(proxy: httpx.AsyncClient) -> None:
    assert (await init(proxy, "def main(args):\n    return {'hi': args['name']}\n")).status_code == 200
    answer = await run(proxy, {"name": "x"})
    assert answer.status_code == 200
    assert answer.json() == {"result": {"hi": "x"}, "logs": []}


async def test_custom_entry_point_and_list_result(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def handler(args):\n    return [1, 2]\n", main="handler")
    assert (await run(proxy, {})).json()["result"] == [1, 2]


def zipped(files: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


async def test_zip_with_a_helper_module(proxy: httpx.AsyncClient) -> None:
    code = zipped(
        {
            "__main__.py": "from helper import twice\ndef main(a):\n    return {'v': twice(a['v'])}\n",
            "helper.py": "def twice(x):\n    return 2 * x\n",
        }
    )
    assert (await init(proxy, code, binary=True)).status_code == 200
    assert (await run(proxy, {"v": 21})).json()["result"] == {"v": 42}


async def test_zip_without_main_module_fails_init(proxy: httpx.AsyncClient) -> None:
    answer = await init(proxy, zipped({"other.py": "x = 1\n"}), binary=True)
    assert answer.status_code == 502 and "__main__.py" in answer.json()["result"]["error"]


async def test_init_only_once(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    return {}\n")
    again = await init(proxy, "def main(a):\n    return {}\n")
    assert again.status_code == 403 and "twice" in again.json()["result"]["error"]


async def test_init_without_code_is_403(proxy: httpx.AsyncClient) -> None:
    assert (await init(proxy, "")).status_code == 403


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def main(args)\n    return {}\n", "SyntaxError"),
        ("import no_such_module_here\ndef main(a):\n    return {}\n", "ModuleNotFoundError"),
        ("def other(a):\n    return {}\n", "entry point 'main'"),
        ("raise RuntimeError('at import')\n", "at import"),
    ],
)
async def test_bad_code_fails_init_with_502(proxy: httpx.AsyncClient, code: str, expected: str) -> None:
    answer = await init(proxy, code)
    assert answer.status_code == 502
    assert expected in answer.json()["result"]["error"]


async def test_run_before_init_is_500(proxy: httpx.AsyncClient) -> None:
    assert (await run(proxy, {})).status_code == 500


async def test_exception_is_an_application_error_with_the_traceback_in_stderr(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    raise ValueError('boom')\n")
    answer = await run(proxy, {})
    assert answer.status_code == 200
    assert answer.json()["result"] == {"error": "ValueError: boom"}
    assert any("stderr: Traceback" in line for line in answer.json()["logs"])


@pytest.mark.parametrize("result", ["None", "42", "'text'"])
async def test_non_dict_result_is_502(proxy: httpx.AsyncClient, result: str) -> None:
    await init(proxy, f"def main(a):\n    return {result}\n")
    answer = await run(proxy, {})
    assert answer.status_code == 502 and "dictionary or array" in answer.json()["result"]["error"]


async def test_unserializable_result_is_502(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "def main(a):\n    return {'x': object()}\n")
    assert (await run(proxy, {})).status_code == 502


async def test_async_main_is_awaited(proxy: httpx.AsyncClient) -> None:
    await init(proxy, "import asyncio\nasync def main(a):\n    await asyncio.sleep(0)\n    return {'async': True}\n")
    assert (await run(proxy, {})).json()["result"] == {"async": True}


async def test_context_and_init_env_reach_the_function(proxy: httpx.AsyncClient) -> None:
    code = "import os\ndef main(a):\n    return {'id': os.environ['__OW_ACTIVATION_ID'], 's': os.environ['SECRET']}\n"
    await init(proxy, code, env={"SECRET": "s3"})
    assert (await run(proxy, {}, activation_id="b" * 32)).json()["result"] == {"id": "b" * 32, "s": "s3"}


async def test_logs_have_timestamps_and_stream_names(proxy: httpx.AsyncClient) -> None:
    await init(
        proxy,
        "import sys\ndef main(a):\n    print('out')\n    print('err', file=sys.stderr)\n"
        "    sys.stdout.write('partial')\n    return {}\n",
    )
    logs = (await run(proxy, {})).json()["logs"]
    assert [line.split(" ", 1)[1] for line in logs] == ["stdout: out", "stderr: err", "stdout: partial"]
    assert all(line[:4].isdigit() and line.split(" ", 1)[0].endswith("Z") for line in logs)


async def test_concurrent_activations_keep_their_own_logs(proxy: httpx.AsyncClient) -> None:
    code = (
        "import time\n"
        "def main(a):\n"
        "    for i in range(20):\n"
        "        print(a['who'], i)\n"
        "        time.sleep(0.002)\n"
        "    return {}\n"
    )
    await init(proxy, code)
    answers = await asyncio.gather(*(run(proxy, {"who": who}) for who in ("left", "right", "middle")))
    for who, answer in zip(("left", "right", "middle"), answers, strict=True):
        texts = [line.split("stdout: ", 1)[1] for line in answer.json()["logs"]]
        assert texts == [f"{who} {i}" for i in range(20)]


async def test_a_slow_sync_function_does_not_block_the_proxy(proxy: httpx.AsyncClient) -> None:
    code = (
        "import time\n"
        "def main(a):\n"
        "    if a.get('slow'):\n"
        "        time.sleep(1.0)\n"
        "    return {'slow': bool(a.get('slow'))}\n"
    )
    await init(proxy, code)
    slow = asyncio.create_task(run(proxy, {"slow": True}))
    await asyncio.sleep(0.1)
    fast = await run(proxy, {})
    assert fast.json()["result"] == {"slow": False}
    assert not slow.done()
    assert (await slow).json()["result"] == {"slow": True}


async def test_without_envelope_the_answer_is_openwhisk_and_logs_go_out_with_sentinels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_app()  # created under capsys: its fallback streams are the captured ones
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
            code = "def main(a):\n    print('hey')\n    return {'a': 1}\n"
            await client.post("/init", json={"value": {"code": code}})
            answer = await client.post("/run", json={"value": {}})
    finally:
        app.state.close()
    assert answer.json() == {"a": 1}
    out, err = capsys.readouterr()
    assert out.splitlines() == [SENTINEL, "hey", SENTINEL]  # after /init, then after /run
    assert err.splitlines() == [SENTINEL, SENTINEL]


async def test_bad_json_is_400(proxy: httpx.AsyncClient) -> None:
    answer = await proxy.post("/run", content=b"{nope", headers=ENVELOPE)
    assert answer.status_code == 400
