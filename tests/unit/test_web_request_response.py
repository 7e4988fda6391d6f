"""Web actions' pure parts: the URL's action segment, the `__ow_*` arguments, response shaping, CORS."""

import base64
from typing import Any

import pytest

from core.errors import BadRequest, NotFound
from core.models import ActivationResponse, Cors, KeyValue
from gateway.web_cors import WEB_ACTION_CORS, cors_headers, sets_own_cors
from gateway.web_invoke import WebTarget, answer_of
from gateway.web_request import WebRequest, split_action_segment, web_params
from gateway.web_response import WebAnswer, shape
from tests.factories import make_action, make_activation

PNG = b"\x89PNG\r\n\x1a\n\x00\x00binary"


def request(**overrides: Any) -> WebRequest:
    fields: dict[str, Any] = {"method": "POST", "headers": {}, "path": "", "query_string": "", "body": b""}
    return WebRequest(**(fields | overrides))


def headers_of(answer: WebAnswer) -> dict[str, str]:
    return dict(answer.headers)


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("hello.json", ("hello", "json", "")),
        ("hello.text/a/b", ("hello", "text", "/a/b")),
        ("hello", ("hello", "http", "")),
        ("hello/users/7", ("hello", "http", "/users/7")),
        ("my.app", ("my.app", "http", "")),  # not a known extension: all of it is the name
        ("hello.svg/", ("hello", "svg", "/")),
    ],
)
def test_the_action_segment_names_action_extension_and_extra_path(rest: str, expected: tuple[str, str, str]) -> None:
    assert split_action_segment(rest) == expected


def test_query_then_json_body_merge_over_action_parameters_with_the_ow_context() -> None:
    action = make_action(parameters=[KeyValue(key="greeting", value="hi"), KeyValue(key="name", value=None)])
    got = web_params(
        action,
        request(
            headers={"content-type": "application/json", "x-one": "1"},
            query_string="name=q&only=query",
            body=b'{"name": "body"}',
            path="/extra",
        ),
        raw=False,
    )
    assert got == {
        "greeting": "hi",
        "name": "body",
        "only": "query",
        "__ow_method": "post",
        "__ow_headers": {"content-type": "application/json", "x-one": "1"},
        "__ow_path": "/extra",
    }


def test_an_anonymous_caller_cannot_override_defaults_but_the_authenticated_owner_can() -> None:
    action = make_action(parameters=[KeyValue(key="greeting", value="hi"), KeyValue(key="name", value=None)])
    with pytest.raises(BadRequest, match="greeting"):
        web_params(action, request(query_string="greeting=pwned"), raw=False)
    assert web_params(action, request(query_string="name=x"), raw=False)["name"] == "x"  # no value: open
    owner = web_params(action, request(query_string="greeting=yo", user="ns"), raw=False)
    assert owner["greeting"] == "yo" and owner["__ow_user"] == "ns"


def test_form_fields_merge_as_strings_and_other_bodies_travel_in_ow_body() -> None:
    action = make_action()
    form = web_params(
        action, request(headers={"content-type": "application/x-www-form-urlencoded"}, body=b"a=1&b=x+y"), raw=False
    )
    assert form["a"] == "1" and form["b"] == "x y" and "__ow_body" not in form
    text = web_params(action, request(headers={"content-type": "text/plain"}, body="héllo".encode()), raw=False)
    assert text["__ow_body"] == "héllo"
    binary = web_params(action, request(headers={"content-type": "image/png"}, body=PNG), raw=False)
    assert base64.b64decode(binary["__ow_body"]) == PNG
    array = web_params(action, request(headers={"content-type": "application/json"}, body=b"[1, 2]"), raw=False)
    assert array["__ow_body"] == [1, 2]


def test_reserved_names_and_final_parameters_cannot_be_overridden() -> None:
    with pytest.raises(BadRequest, match="__ow_method"):
        web_params(make_action(), request(query_string="__ow_method=get"), raw=False)
    final = make_action(
        parameters=[KeyValue(key="token", value="secret")], annotations=[KeyValue(key="final", value=True)]
    )
    with pytest.raises(BadRequest, match="token"):
        web_params(final, request(query_string="token=mine"), raw=False)


def test_bad_json_is_a_400() -> None:
    with pytest.raises(BadRequest):
        web_params(make_action(), request(headers={"content-type": "application/json"}, body=b"{nope"), raw=False)


def test_raw_mode_passes_query_and_body_unparsed() -> None:
    action = make_action(parameters=[KeyValue(key="p", value=1)])
    json_body = web_params(
        action,
        request(headers={"content-type": "application/json"}, query_string="a=1&a=2", body=b'{"x": 1}'),
        raw=True,
    )
    assert json_body["__ow_query"] == "a=1&a=2"
    assert base64.b64decode(json_body["__ow_body"]) == b'{"x": 1}'  # JSON is base64 in raw mode
    assert json_body["p"] == 1 and "x" not in json_body and "a" not in json_body
    text = web_params(action, request(headers={"content-type": "text/plain"}, body=b"plain"), raw=True)
    assert text["__ow_body"] == "plain"
    empty = web_params(action, request(method="GET"), raw=True)
    assert empty["__ow_body"] == "" and empty["__ow_method"] == "get"


def test_route_path_parameters_join_the_arguments_and_the_user_is_passed() -> None:
    got = web_params(make_action(), request(path_params={"id": "7"}, user="guest"), raw=False)
    assert got["id"] == "7" and got["__ow_user"] == "guest"


def test_json_extension_answers_the_result_or_its_projection() -> None:
    result = {"user": {"name": "ann", "tags": ["a"]}}
    assert shape("json", result, "").body == b'{"user": {"name": "ann", "tags": ["a"]}}'
    assert shape("json", result, "/user").body == b'{"name": "ann", "tags": ["a"]}'
    assert headers_of(shape("json", result, ""))["content-type"] == "application/json"
    with pytest.raises(BadRequest):
        shape("json", result, "/user/name")  # a string is not a JSON object or array
    with pytest.raises(NotFound):
        shape("json", result, "/nobody")


def test_html_svg_and_text_take_the_body_field() -> None:
    html = shape("html", {"body": "<p>hi</p>"}, "")
    assert html.body == b"<p>hi</p>" and headers_of(html)["content-type"].startswith("text/html")
    assert shape("html", "<b>bare</b>", "").body == b"<b>bare</b>"
    assert headers_of(shape("svg", {"body": "<svg/>"}, ""))["content-type"] == "image/svg+xml"
    assert shape("text", {"text": "plain"}, "").body == b"plain"
    assert shape("text", {"body": {"a": 1}}, "").body == b'{\n  "a": 1\n}'
    with pytest.raises(NotFound):
        shape("text", {"other": 1}, "")
    with pytest.raises(BadRequest):
        shape("html", {"body": 5}, "")


def test_http_answers_status_headers_and_body() -> None:
    answer = shape(
        "http", {"statusCode": "201", "headers": {"Set-Cookie": ["a=1", "b=2"], "X-N": 3}, "body": "<p>x</p>"}, ""
    )
    assert answer.status == 201
    assert answer.headers == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-N", "3"),
        ("content-type", "text/html; charset=utf-8"),
    ]
    assert answer.body == b"<p>x</p>"


def test_http_decodes_base64_for_binary_types_and_serializes_json_bodies() -> None:
    png = shape("http", {"headers": {"Content-Type": "image/png"}, "body": base64.b64encode(PNG).decode()}, "")
    assert png.body == PNG and headers_of(png)["content-type"] == "image/png"
    obj = shape("http", {"body": {"a": [1, 2]}}, "")
    assert obj.body == b'{"a": [1, 2]}' and headers_of(obj)["content-type"] == "application/json"
    encoded_json = base64.b64encode(b'{"k": 1}').decode()
    legacy = shape("http", {"headers": {"content-type": "application/json"}, "body": encoded_json}, "")
    assert legacy.body == b'{"k": 1}'


def test_http_without_body_is_204_and_drops_the_content_type() -> None:
    answer = shape("http", {"headers": {"content-type": "text/plain"}}, "")
    assert answer.status == 204 and answer.body == b"" and answer.headers == []
    assert shape("http", {"statusCode": 302, "headers": {"location": "/x"}}, "").status == 302


@pytest.mark.parametrize(
    "result",
    [
        "not an object",
        {"statusCode": "abc"},
        {"statusCode": 42},
        {"headers": []},
        {"headers": {"x": {"nested": 1}}},
        {"headers": {"bad name": "v"}},
        {"headers": {"x": "line\r\nbreak"}},
        {"headers": {"content-type": "image/png"}, "body": "not base64!"},
        {"headers": {"content-type": "text/plain"}, "body": {"json": True}},
        {"headers": {"content-type": "nonsense"}, "body": "x"},
    ],
)
def test_http_rejects_what_is_not_a_valid_http_response(result: Any) -> None:
    with pytest.raises(BadRequest):
        shape("http", result, "")


def test_web_actions_allow_any_origin_and_echo_requested_headers() -> None:
    headers = dict(cors_headers(WEB_ACTION_CORS, None, "X-Custom"))
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-headers"] == "X-Custom"
    assert "PATCH" in headers["access-control-allow-methods"]
    assert "Authorization" in dict(cors_headers(WEB_ACTION_CORS, None, None))["access-control-allow-headers"]


def test_route_cors_allows_only_its_origins() -> None:
    cors = Cors(origins=["https://app.example"], methods=["GET"], headers=["Content-Type"], max_age=600)
    allowed = dict(cors_headers(cors, "https://app.example", None))
    assert allowed["access-control-allow-origin"] == "https://app.example"
    assert allowed["access-control-max-age"] == "600" and allowed["vary"] == "Origin"
    assert cors_headers(cors, "https://evil.example", None) == []


def test_web_and_route_paths_set_their_own_cors() -> None:
    assert sets_own_cors("/api/v1/web/guest/default/x")
    assert sets_own_cors("/api/guest/shop/items")
    assert not sets_own_cors("/api/v1/namespaces/_/actions")
    assert not sets_own_cors("/api/v1")


def test_an_application_errors_value_is_the_response_and_other_failures_are_400() -> None:
    target = WebTarget(namespace="ns", package="default", action="a", extension="http", extra_path="")
    teapot = ActivationResponse(status="application error", result={"error": {"statusCode": 418, "body": "tea"}})
    answer = answer_of(make_activation(response=teapot), target)
    assert answer.status == 418 and answer.body == b"tea"
    for status in ("action developer error", "whisk internal error"):
        failed = make_activation(response=ActivationResponse(status=status, result={"error": "boom"}))
        with pytest.raises(BadRequest, match="error processing"):
            answer_of(failed, target)
