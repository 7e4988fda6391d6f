"""Running the `stratus` CLI in-process against the e2e platform, with a config file of the test's own."""

from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner, Result

from standalone.cli.main import app
from tests.e2e.conftest import Platform


@dataclass(frozen=True)
class Cli:
    platform: Platform
    config_file: Path

    def __call__(self, *args: str, configured: bool = True) -> Result:
        """Run `stratus ARGS`; configured: host and key come from STRATUS_APIHOST / STRATUS_AUTH."""
        env = {
            "STRATUS_CONFIG_FILE": str(self.config_file),
            "STRATUS_APIHOST": self.platform.url if configured else None,
            "STRATUS_AUTH": self.platform.key if configured else None,
            "STRATUS_NAMESPACE": None,
        }
        return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
