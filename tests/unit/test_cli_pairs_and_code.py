"""CLI argument pairs, action code from files, folders and zips (pure logic, temp files only)."""

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest

from stratus.cli.pairs import BadPairs, pairs_dict, parse_value, read_param_file, split_pairs
from stratus.client.code import exec_from_path, zip_folder
from stratus.client.errors import ConfigError


def test_split_pairs_takes_every_pair_and_keeps_the_rest_in_order() -> None:
    found, rest = split_pairs(["hello", "-p", "a", "1", "--json", "--param", "b", "x y", "-a", "web-export", "true"])
    assert found == {"param": [("a", "1"), ("b", "x y")], "annotation": [("web-export", "true")]}
    assert rest == ["hello", "--json"]


def test_split_pairs_stops_at_double_dash() -> None:
    found, rest = split_pairs(["x", "--", "-p", "a", "b"])
    assert found == {} and rest == ["x", "--", "-p", "a", "b"]


def test_split_pairs_needs_two_values() -> None:
    with pytest.raises(BadPairs, match="--param KEY VALUE"):
        split_pairs(["hello", "--param", "a"])


def test_values_are_json_when_they_parse_and_strings_otherwise() -> None:
    assert [parse_value(v) for v in ("3", "true", '{"a": [1]}', "hello", "1.5", "null")] == [
        3,
        True,
        {"a": [1]},
        "hello",
        1.5,
        None,
    ]
    assert pairs_dict([("a", "1"), ("a", "2")]) == {"a": 2}  # the last one wins, as in wsk


def test_param_file_must_hold_an_object(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"name": "x"}))
    bad.write_text("[1]")
    assert read_param_file(good) == {"name": "x"}
    with pytest.raises(BadPairs, match="JSON object"):
        read_param_file(bad)
    with pytest.raises(BadPairs, match="cannot read"):
        read_param_file(tmp_path / "missing.json")


def test_a_py_file_is_sent_as_source(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text("def main(a):\n    return a\n")
    assert exec_from_path(tmp_path / "hello.py", main="main") == {
        "kind": "python:3.11",
        "code": "def main(a):\n    return a\n",
        "main": "main",
    }


def test_a_folder_is_zipped_deterministically_without_caches(tmp_path: Path) -> None:
    (tmp_path / "app" / "lib" / "__pycache__").mkdir(parents=True)
    (tmp_path / "app" / "__main__.py").write_text("from lib import helper\n")
    (tmp_path / "app" / "lib" / "helper.py").write_text("X = 1\n")
    (tmp_path / "app" / "lib" / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")
    first = zip_folder(tmp_path / "app")
    (tmp_path / "app" / "__main__.py").touch()  # a new mtime must not change the bytes
    assert zip_folder(tmp_path / "app") == first
    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["__main__.py", "lib/helper.py"]
    sent = exec_from_path(tmp_path / "app")
    assert base64.b64decode(sent["code"]) == first


def test_a_folder_without_main_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    with pytest.raises(ConfigError, match="__main__.py"):
        exec_from_path(tmp_path / "app")


def test_a_zip_of_the_folder_itself_gets_a_hint(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app/__main__.py", "def main(a): return a")
    (tmp_path / "app.zip").write_bytes(buffer.getvalue())
    with pytest.raises(ConfigError, match="zip the folder's contents"):
        exec_from_path(tmp_path / "app.zip")


def test_a_missing_path_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        exec_from_path(tmp_path / "nope.py")


def test_a_lambda_folder_needs_the_handlers_module_not_main(tmp_path: Path) -> None:
    (tmp_path / "fn" / "src").mkdir(parents=True)
    (tmp_path / "fn" / "src" / "app.py").write_text("def handler(event, context):\n    return event\n")
    sent = exec_from_path(tmp_path / "fn", handler="src.app.handler")
    assert zipfile.ZipFile(io.BytesIO(base64.b64decode(sent["code"]))).namelist() == ["src/app.py"]
    with pytest.raises(ConfigError, match="has no other.py"):
        exec_from_path(tmp_path / "fn", handler="other.handler")
