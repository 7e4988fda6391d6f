"""The web console at /console, in a real headless Chromium against a running platform.

Each test logs in with a namespace of its own and saves screenshots (tests/artifacts/console/).
"""

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from uuid import uuid4

import httpx
import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.browser import headless_chromium, screenshot, script_problems, text_of, type_into, wait_for
from tests.e2e.conftest import Platform
from tests.factories import namespace_key

INVOKE_WAIT_S = 180  # a cold start on a loaded 2-core machine (seen: 30 s at load average 46)
HELLO = "def main(args):\n    return {'greeting': 'Hello ' + args.get('name', 'stranger')}\n"


@dataclass
class Console:
    driver: Chrome
    platform: Platform
    namespace: str
    key: str

    def api(self) -> httpx.Client:
        return self.platform.client(self.key)

    def open(self) -> None:
        self.driver.get(f"{self.platform.url}/console")

    def log_in(self) -> None:
        self.open()
        type_into(wait_for(self.driver, lambda d: d.find_element(By.ID, "login-key"), what="the login form"), self.key)
        self.driver.find_element(By.ID, "login").click()
        wait_for(self.driver, lambda d: text_of(d, "who") == f"namespace {self.namespace}", what="the namespace")

    def tab(self, name: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f'#tabs button[data-tab="{name}"]').click()

    def shot(self, name: str) -> None:
        screenshot(self.driver, name)


def new_namespace(platform: Platform) -> tuple[str, str]:
    name = f"console-{uuid4().hex[:8]}"
    return name, namespace_key(platform.entities_url, name)


@pytest.fixture
def console(platform: Platform) -> Iterator[Console]:
    namespace, key = new_namespace(platform)
    with headless_chromium() as driver:
        found = Console(driver, platform, namespace, key)
        yield found
        assert key not in driver.current_url
        assert script_problems(driver) == []  # no CSP violation, no uncaught error in the page


def put_action(console: Console, name: str, code: str = HELLO, **extra: Any) -> None:
    with console.api() as api:
        api.put(f"/api/v1/namespaces/_/actions/{name}", json={"exec": {"kind": "python:3.11", "code": code}, **extra})


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


def test_console_files_come_with_a_strict_content_security_policy(platform: Platform) -> None:
    with httpx.Client(base_url=platform.url, trust_env=False) as http:
        root = http.get("/console")
        assert root.status_code == 307 and root.headers["location"] == "console/"
        page = http.get("/console/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        policy = dict(d.strip().partition(" ")[::2] for d in page.headers["content-security-policy"].split(";"))
        assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'" and policy["connect-src"] == "'self'"
        assert page.headers["x-content-type-options"] == "nosniff"
        tags = Tags()
        tags.feed(page.text)
        scripts = [attrs for tag, attrs in tags.found if tag == "script"]
        assert scripts == [{"type": "module", "src": "app.js"}] and tags.script_text == ""  # nothing inline
        assert not [a for _, attrs in tags.found for a in attrs if a.startswith("on") or a == "style"]
        script = http.get("/console/app.js")
        assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
        assert script.headers["content-security-policy"] == page.headers["content-security-policy"]
        for missing in ("/console/nope.js", "/console/..%2Fapp.py", "/console/%2E%2E/routes/console.py"):
            answer = http.get(missing)
            assert answer.status_code == 404 and set(answer.json()) == {"error", "code"}, missing


def test_login_takes_a_key_keeps_it_in_the_tab_only_and_logout_forgets_it(console: Console) -> None:
    driver = console.driver
    console.open()
    key_field = wait_for(driver, lambda d: d.find_element(By.ID, "login-key"), what="the login form")
    type_into(key_field, "not-a-key")
    driver.find_element(By.ID, "login").click()
    wait_for(driver, lambda d: "uuid:secret" in text_of(d, "login-error"), what="the key shape message")
    type_into(key_field, console.key.split(":")[0] + ":wrong")
    driver.find_element(By.ID, "login").click()
    wait_for(driver, lambda d: text_of(d, "login-error") == "The key was not accepted.", what="a refusal")
    assert driver.execute_script("return sessionStorage.length") == 0
    console.shot("login-refused")

    console.log_in()
    assert driver.execute_script("return sessionStorage.getItem('stratus.key')") == console.key
    assert driver.find_element(By.ID, "login-key").get_attribute("value") == ""
    driver.refresh()  # the tab's session survives a reload, with no login form
    wait_for(driver, lambda d: text_of(d, "who") == f"namespace {console.namespace}", what="the session after reload")
    driver.find_element(By.ID, "logout").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "login-key").is_displayed(), what="the login form again")
    assert driver.execute_script("return sessionStorage.length") == 0


def test_create_edit_and_invoke_an_action(console: Console) -> None:
    driver = console.driver
    console.log_in()
    driver.find_element(By.ID, "new-action").click()

    def kinds(d: WebDriver) -> list[str | None]:
        return [o.get_attribute("value") for o in d.find_elements(By.CSS_SELECTOR, "#action-kind option")]

    wait_for(driver, lambda d: "python:3.13" in kinds(d), what="the kinds GET / lists")
    assert kinds(driver)[0] == "python:3.11"  # the default first, as the runtimes list it
    type_into(driver.find_element(By.ID, "action-name"), "greeter")
    code = driver.find_element(By.ID, "action-code")
    code.clear()
    code.send_keys("def main(args):", Keys.ENTER, "print('greeting', args.get('name'))", Keys.ENTER)
    code.send_keys("if False:", Keys.ENTER, "pass", Keys.ENTER, Keys.SHIFT, Keys.TAB, Keys.SHIFT)  # dedent
    code.send_keys("return {'greeting': args['word'] + ' ' + args.get('name', 'x')}")
    code.send_keys(Keys.HOME, Keys.TAB, Keys.SHIFT, Keys.TAB, Keys.SHIFT)  # indent, then dedent the line: as before
    assert driver.execute_script("return document.activeElement.id") == "action-code"  # Tab stayed in the editor
    expected = (
        "def main(args):\n    print('greeting', args.get('name'))\n    if False:\n        pass\n"
        "    return {'greeting': args['word'] + ' ' + args.get('name', 'x')}"
    )
    assert code.get_attribute("value") == expected
    code.send_keys(Keys.ESCAPE, Keys.TAB)  # Esc releases Tab: focus moves on
    assert driver.execute_script("return document.activeElement.id") == "action-params"
    type_into(driver.find_element(By.ID, "action-params"), '{"word": "Hello"}')
    type_into(driver.find_element(By.ID, "limit-memory"), "128")
    type_into(driver.find_element(By.ID, "limit-timeout"), "120000")
    driver.find_element(By.ID, "action-web").click()
    assert f"/api/v1/web/{console.namespace}/default/greeter.http" in text_of(driver, "web-url")
    driver.find_element(By.ID, "save-action").click()
    wait_for(driver, lambda d: "Saved greeter, version 0.0.1." in text_of(d, "editor-message"), what="the save")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#actions-table tr[data-name="greeter"]'))
    console.shot("action-created")

    with console.api() as api:
        stored = api.get("/api/v1/namespaces/_/actions/greeter").json()
    assert stored["exec"]["code"] == expected
    assert stored["parameters"] == [{"key": "word", "value": "Hello"}]
    assert stored["limits"]["memory"] == 128 and stored["limits"]["timeout"] == 120000
    assert {"key": "web-export", "value": True} in stored["annotations"]

    code.send_keys(Keys.CONTROL, Keys.END, Keys.CONTROL, Keys.ENTER, "# edited in the console")  # indent kept
    driver.find_element(By.ID, "action-web").click()  # no longer a web action
    driver.find_element(By.ID, "save-action").click()
    wait_for(driver, lambda d: "version 0.0.2" in text_of(d, "editor-message"), what="the second save")
    with console.api() as api:
        stored = api.get("/api/v1/namespaces/_/actions/greeter").json()
    assert stored["exec"]["code"] == expected + "\n    # edited in the console"
    assert "web-export" not in [a["key"] for a in stored["annotations"]]

    type_into(driver.find_element(By.ID, "invoke-params"), '{"name": "Ann"}')
    driver.find_element(By.ID, "invoke").click()
    wait_for(driver, lambda d: "success" in text_of(d, "invoke-message"), INVOKE_WAIT_S, "the invoke result")
    assert '"greeting": "Hello Ann"' in text_of(driver, "invoke-result")
    console.shot("action-invoked")

    driver.find_element(By.ID, "open-record").click()  # the record of that invocation, in Activations
    wait_for(driver, lambda d: "greeting Ann" in text_of(d, "record-logs"), what="the record's logs")


def test_activations_refresh_live_filter_by_name_and_show_logs_and_timings(console: Console) -> None:
    driver = console.driver
    put_action(console, "echo", "def main(args):\n    print('echo', args['n'])\n    return args\n")
    put_action(console, "other", "def main(args):\n    return {}\n")
    console.log_in()
    console.tab("activations")
    type_into(driver.find_element(By.ID, "activation-filter"), "echo")
    with console.api() as api:
        api.post("/api/v1/namespaces/_/actions/other", params={"blocking": "true"})
        answers = [api.post("/api/v1/namespaces/_/actions/echo?blocking=true", json={"n": n}) for n in range(3)]
        ids = [answer.json()["activationId"] for answer in answers]
        records = {i: stored_record(api, i) for i in ids}

    def rows(d: WebDriver) -> list[str]:  # in one script: live refresh replaces the rows every 2 s
        found: list[str] = d.execute_script(
            "return [...document.querySelectorAll('#activations-table tbody tr')].map(row => row.dataset.id)"
        )
        return found

    wait_for(driver, lambda d: sorted(rows(d)) == sorted(ids), what="the three echo records, by live refresh")
    start_types = Counter(dict_of(r["annotations"]).get("startType", "other") for r in records.values())
    bars, legend = driver.execute_script(
        "return [[...document.querySelectorAll('#chart-plot rect.bar')].map(bar => [bar.dataset.startType, "
        "Number(bar.dataset.count)]), document.getElementById('chart-legend').innerText]"
    )
    charted: Counter[str] = Counter()
    for start_type, count in bars:
        charted[start_type] += count
    assert charted == start_types  # one bar segment per second and start type, from the same records
    assert "3 in the last 60 s" in legend
    for start_type, count in start_types.items():
        assert f"{start_type} {count}" in legend
    console.shot("activations")

    first = ids[0]
    driver.find_element(By.CSS_SELECTOR, f'#activations-table tr[data-id="{first}"] button').click()
    wait_for(driver, lambda d: "echo 0" in text_of(d, "record-logs"), what="the record's logs")
    timings = {
        dd.get_attribute("data-timing"): dd.text for dd in driver.find_elements(By.CSS_SELECTOR, "#record-timings dd")
    }
    record, annotations = records[first], dict_of(records[first]["annotations"])
    assert timings["Duration"] == f"{record['duration']} ms"
    assert timings["Wait time"] == f"{annotations['waitTime']} ms"
    assert timings["Start type"] == annotations["startType"]
    assert timings["Init time"] == (f"{annotations['initTime']} ms" if "initTime" in annotations else "—")
    assert timings["Status"] == "success"
    console.shot("activation-record")

    type_into(driver.find_element(By.ID, "activation-filter"), "other")
    wait_for(driver, lambda d: len(rows(d)) == 1 and rows(d)[0] not in ids, what="the filter on 'other'")


def stored_record(api: httpx.Client, activation_id: str) -> dict[str, Any]:
    """The record once the store has it: a blocking answer may come before the recorder's write (as in
    OpenWhisk, a GET right after can be a 404 for a moment)."""
    for _ in range(100):
        answer = api.get(f"/api/v1/namespaces/_/activations/{activation_id}")
        if answer.status_code != 404:
            break
        time.sleep(0.1)
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def dict_of(annotations: list[dict[str, Any]]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in annotations}


def test_function_output_is_shown_as_text_never_as_markup(console: Console) -> None:
    driver = console.driver
    payload = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
    put_action(console, "hostile", f"def main(args):\n    print({payload!r})\n    return {{'html': {payload!r}}}\n")
    console.log_in()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#actions-table tr[data-name="hostile"] button'))
    driver.find_element(By.CSS_SELECTOR, '#actions-table tr[data-name="hostile"] button').click()
    wait_for(driver, lambda d: d.find_element(By.ID, "invoke-form").is_displayed(), what="the action's editor")
    driver.find_element(By.ID, "invoke").click()
    wait_for(driver, lambda d: "success" in text_of(d, "invoke-message"), INVOKE_WAIT_S, "the invoke result")
    assert payload.replace('"', '\\"') in text_of(driver, "invoke-result")  # JSON-escaped, as text
    driver.find_element(By.ID, "open-record").click()
    wait_for(driver, lambda d: payload in text_of(d, "record-logs"), what="the logs, as text")
    time.sleep(0.5)  # an injected onerror would have fired by now
    assert driver.find_elements(By.CSS_SELECTOR, "main img, main script") == []
    assert driver.title == "Stratus console"
    console.shot("hostile-output")


def test_invokers_and_their_warm_pools_for_the_admin_key(console: Console) -> None:
    driver = console.driver
    put_action(console, "warmed")
    with console.api() as api:
        assert api.post("/api/v1/namespaces/_/actions/warmed", params={"blocking": "true"}).status_code == 200
    console.log_in()
    console.tab("invokers")
    admin_key = wait_for(driver, lambda d: d.find_element(By.ID, "admin-key"), what="the admin key form")
    type_into(admin_key, "wrong")
    driver.find_element(By.ID, "use-admin-key").click()
    wait_for(driver, lambda d: text_of(d, "admin-error") == "The admin key was not accepted.", what="a refusal")
    type_into(admin_key, console.platform.admin_key)
    driver.find_element(By.ID, "use-admin-key").click()
    fqn = f"{console.namespace}/warmed"
    wait_for(driver, lambda d: fqn in text_of(d, "invokers-table"), 30, "the warm pool of the invoked action")
    state = driver.find_element(By.CSS_SELECTOR, "#invokers-table tbody td.state")
    assert state.text == "healthy"
    assert driver.execute_script("return sessionStorage.getItem('stratus.adminKey')") == console.platform.admin_key
    console.shot("invokers")


USER_PAGE = """def main(args):
    headers = {"content-type": "text/html"}
    if args.get("coop"):
        headers["cross-origin-opener-policy"] = "same-origin"
    return {"headers": headers, "body": "<p>a page of user content on the API's origin</p>"}
"""


def opened_console(console: Console, opener_url: str) -> None:
    driver = console.driver
    driver.get(opener_url)
    opener = driver.current_window_handle
    driver.execute_script("window.open('/console/')")  # chromedriver turns the popup blocker off
    opened = wait_for(driver, lambda d: next((h for h in d.window_handles if h != opener), None), what="the window")
    driver.switch_to.window(opened)
    wait_for(driver, lambda d: d.find_element(By.ID, "login-view").is_displayed(), what="the console's first view")


def test_a_console_opened_and_scriptable_by_another_page_refuses_to_run(console: Console) -> None:
    driver = console.driver
    put_action(console, "page", USER_PAGE, annotations=[{"key": "web-export", "value": True}])
    page = f"{console.platform.url}/api/v1/web/{console.namespace}/default/page.http"
    opened_console(console, page)  # the console's COOP severs a page without one: it runs
    assert driver.execute_script("return window.opener") is None
    assert driver.find_element(By.ID, "login-key").is_displayed()
    driver.close()
    driver.switch_to.window(driver.window_handles[0])  # the opener, the only one left

    opened_console(console, f"{page}?coop=true")  # same origin and same COOP: the opener could script it
    assert "opened by another page" in text_of(driver, "login-error")
    assert not driver.find_element(By.ID, "login-key").is_displayed()
    console.shot("opened-by-another-page")


def test_an_action_in_a_package_is_listed_opened_and_invoked_by_its_path(console: Console) -> None:
    with console.api() as api:
        api.put("/api/v1/namespaces/_/packages/tools", json={"parameters": [{"key": "name", "value": "pkg"}]})
    put_action(console, "tools/hello")
    driver = console.driver
    console.log_in()
    row = '#actions-table tr[data-name="tools/hello"] button'
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, row), what="the package's action, by its path")
    driver.find_element(By.CSS_SELECTOR, row).click()
    wait_for(driver, lambda d: "tools/hello (version 0.0.1)" in text_of(d, "editor-title"), what="the editor")
    driver.find_element(By.ID, "invoke").click()
    wait_for(driver, lambda d: "success" in text_of(d, "invoke-message"), INVOKE_WAIT_S, "the invoke result")
    assert '"greeting": "Hello pkg"' in text_of(driver, "invoke-result")  # the package's parameter
    assert script_problems(driver) == []
