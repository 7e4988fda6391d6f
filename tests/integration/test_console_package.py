"""The console ships in the stratus wheel, which is what the platform image installs."""

import subprocess
import sys
import zipfile
from pathlib import Path

from gateway.routes.console import FILES

ROOT = Path(__file__).parents[2]


def test_the_wheel_carries_every_console_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )  # as images.platform builds it for the platform image
    (wheel,) = tmp_path.glob("stratus-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"gateway/console/{name}" for name in FILES} <= names
    assert "gateway/routes/console.py" in names
