"""README's "Following one invocation" table names real code: a rename breaks this test."""

import importlib
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def dotted_names() -> list[str]:
    section = README.read_text().split("## Following one invocation", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"`([a-z_]+(?:\.[A-Za-z_]+)+)`", section)


def test_every_dotted_name_in_the_table_exists() -> None:
    names = dotted_names()
    assert len(names) >= 8
    for name in names:
        parts = name.split(".")
        for split in range(len(parts), 0, -1):
            try:
                target: object = importlib.import_module(".".join(parts[:split]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[split:]:
                target = getattr(target, attribute)
            break
        else:
            raise AssertionError(f"{name} names no module")
