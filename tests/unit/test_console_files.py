"""The console's static files: everything it references is served, nothing inline, no HTML built from data."""

import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest

from gateway.routes.console import CONTENT_TYPES, CSP, FILES

CONSOLE = files("gateway") / "console"
SCRIPTS = sorted(name for name in FILES if name.endswith(".js"))
# ways to turn a string into markup or code; the console sets text only (textContent, Text nodes)
MARKUP_SINKS = re.compile(
    r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function|DOMParser|createContextualFragment"
)


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = ""
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._tag = tag

    def handle_endtag(self, tag: str) -> None:
        self._tag = ""

    def handle_data(self, data: str) -> None:
        if self._tag in ("script", "style"):
            self.inline_script += data.strip()


def test_every_file_of_known_type_in_the_folder_is_served() -> None:
    on_disk = {entry.name for entry in CONSOLE.iterdir() if "." + entry.name.rpartition(".")[2] in CONTENT_TYPES}
    assert set(FILES) == on_disk and {"index.html", "app.js", "console.css"} <= on_disk


def test_the_page_has_no_inline_script_style_or_handler_and_its_references_exist() -> None:
    page = Page()
    page.feed(FILES["index.html"][0].decode())
    assert page.inline_script == ""
    attributes = [name for _, attrs in page.tags for name in attrs]
    assert not [name for name in attributes if name.startswith("on") or name == "style"]
    referenced = [attrs.get("src") or attrs.get("href") for tag, attrs in page.tags if tag in ("script", "link")]
    assert referenced == ["console.css", "app.js"] and all(name in FILES for name in referenced)


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_import_only_served_modules_and_never_build_markup(name: str) -> None:
    source = FILES[name][0].decode()
    imported = re.findall(r"""\bfrom\s+['"]([^'"]+)['"]""", source)
    assert all(m.startswith("./") and m[2:] in FILES for m in imported), imported  # nothing from elsewhere
    assert "import(" not in source  # no dynamic imports either
    assert not MARKUP_SINKS.search(source), MARKUP_SINKS.search(source)


def test_the_policy_allows_scripts_from_the_origin_only() -> None:
    policy = dict(d.strip().partition(" ")[::2] for d in CSP.split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert "unsafe" not in CSP and policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'none'"
