"""Where the SDK and the CLI find the API: arguments, then STRATUS_APIHOST / STRATUS_AUTH, then the config file.

The config file is JSON in the user's config dir (`~/.config/stratus/config.json` on Linux, as
`typer.get_app_dir` places it), or the file named by STRATUS_CONFIG_FILE.
"""

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

from stratus.client.errors import ConfigError

KEYS = ("apihost", "auth", "namespace")
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


class ClientSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    apihost: str = ""  # http://127.0.0.1:3233, or host[:port] (https unless loopback)
    auth: str = ""  # uuid:key
    namespace: str = "_"  # `_` is the key's own namespace
    config_file: str = ""  # default: config.json in the user's config dir


def config_path() -> Path:
    given = ClientSettings().config_file
    if given:
        return Path(given)
    import typer  # only its get_app_dir: the platform's conventional config dir, without a new dependency

    return Path(typer.get_app_dir("stratus")) / "config.json"


def read_config(path: Path) -> dict[str, str]:
    try:
        stored = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; fix or delete the file") from exc
    return {k: str(v) for k, v in stored.items() if k in KEYS} if isinstance(stored, dict) else {}


def write_config(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.touch(mode=0o600)  # the file holds a key: readable by its owner only
    temporary.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


def load_settings(**overrides: Any) -> ClientSettings:
    """Arguments win over environment variables, which win over the config file."""
    from_env = ClientSettings().model_dump(exclude_unset=True)
    given = {k: v for k, v in overrides.items() if v is not None}
    return ClientSettings.model_validate(read_config(config_path()) | from_env | given)


def base_url(apihost: str) -> str:
    if not apihost:
        raise ConfigError(
            "no API host configured: run `stratus property set --apihost http://127.0.0.1:3233` or set STRATUS_APIHOST"
        )
    if "://" not in apihost:
        host = urlsplit(f"//{apihost}").hostname or ""
        apihost = f"{'http' if host in _LOOPBACK or host.startswith('127.') else 'https'}://{apihost}"
    return apihost.rstrip("/")


def basic_auth(auth: str) -> tuple[str, str]:
    uuid, colon, key = auth.partition(":")
    if not auth:
        raise ConfigError("no API key configured: run `stratus property set --auth UUID:KEY` or set STRATUS_AUTH")
    if not colon or not uuid or not key:
        raise ConfigError("the API key must look like UUID:KEY (as `stratus standalone` prints it)")
    return uuid, key
