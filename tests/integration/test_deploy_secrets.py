"""deploy/stratus-service.sh's secrets: generated once if not given, kept across restarts, refused when they
could break a URL, and filled into the services' URLs (the compose stack runs the same script)."""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "stratus-service.sh"


def service(directory: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}
    return subprocess.run(
        ["sh", str(SCRIPT), *args],
        env=clean | {"STRATUS_SECRETS_DIR": str(directory)} | env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_passwords_are_generated_once_and_kept(tmp_path: Path) -> None:
    assert service(tmp_path, "secrets").returncode == 0
    first = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert sorted(first) == ["mongo_password", "mysql_password", "mysql_root_password", "redis_password"]
    assert all(len(v) == 48 and int(v, 16) >= 0 for v in first.values()) and len(set(first.values())) == 4
    assert service(tmp_path, "secrets").returncode == 0
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == first  # a restart keeps them


def test_a_given_password_is_used_and_one_that_would_break_a_url_refused(tmp_path: Path) -> None:
    assert service(tmp_path, "secrets", STRATUS_REDIS_PASSWORD="mine-1.x").returncode == 0
    assert (tmp_path / "redis_password").read_text() == "mine-1.x"
    bad = service(tmp_path, "secrets", STRATUS_MYSQL_PASSWORD="a@b/c")
    assert bad.returncode == 2 and "STRATUS_MYSQL_PASSWORD" in bad.stderr


def test_services_get_the_passwords_in_their_urls(tmp_path: Path) -> None:
    service(tmp_path, "secrets", STRATUS_REDIS_PASSWORD="r3d", STRATUS_MYSQL_PASSWORD="my5")
    urls = {
        "STRATUS_REDIS_URL": "redis://:{redis_password}@redis:6379/0",
        "STRATUS_ENTITIES_URL": "mysql+aiomysql://stratus:{mysql_password}@mysql:3306/stratus",
        "STRATUS_MONGO_URL": "mongodb://mongo:27017",  # no placeholder: left as it is
    }
    shown = service(tmp_path, "sh", "-c", "printenv STRATUS_REDIS_URL STRATUS_ENTITIES_URL STRATUS_MONGO_URL", **urls)
    assert shown.stdout.split() == [
        "redis://:r3d@redis:6379/0",
        "mysql+aiomysql://stratus:my5@mysql:3306/stratus",
        "mongodb://mongo:27017",
    ]
