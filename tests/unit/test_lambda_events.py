"""Web requests as API Gateway HTTP API (payload 2.0) events, and Lambda responses back: pure mapping."""

import base64

from actionproxy.lambdas import as_result, http_event, http_response, is_web_request

WEB = {
    "__ow_method": "get",
    "__ow_path": "/items/7",
    "__ow_headers": {"host": "fn.example:8443", "user-agent": "curl", "x-forwarded-for": "1.2.3.4, 10.0.0.1"},
    "__ow_query": "a=1&a=2&b=",
}


def test_an_api_gateway_v2_event_from_web_action_arguments() -> None:
    event = http_event(WEB, "req-1", "guest")
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert (event["rawPath"], event["rawQueryString"]) == ("/items/7", "a=1&a=2&b=")
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    http = event["requestContext"]["http"]
    assert http == {
        "method": "GET",
        "path": "/items/7",
        "protocol": "HTTP/1.1",
        "sourceIp": "1.2.3.4",
        "userAgent": "curl",
    }
    assert event["requestContext"]["requestId"] == "req-1" and event["requestContext"]["accountId"] == "guest"
    assert event["requestContext"]["domainName"] == "fn.example"
    assert "body" not in event and event["isBase64Encoded"] is False and "cookies" not in event


def test_text_bodies_stay_text_and_cookies_leave_the_headers() -> None:
    params = WEB | {
        "__ow_method": "post",
        "__ow_headers": {"content-type": "application/json", "cookie": "a=1; b=2"},
        "__ow_body": base64.b64encode(b'{"k": "v"}').decode(),  # raw mode sends JSON as base64
    }
    event = http_event(params, "r", "ns")
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]


def test_a_value_without_status_code_is_a_200_json_body_as_api_gateway_does() -> None:
    answer = http_response({"items": [1, 2]})
    assert answer == {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"items": [1, 2]}'}


def test_a_response_with_headers_multi_value_headers_and_a_text_body() -> None:
    answer = http_response(
        {
            "statusCode": 404,
            "headers": {"Content-Type": "text/plain"},
            "multiValueHeaders": {"x-a": ["1", "2"]},
            "body": "no",
        }
    )
    assert answer == {"statusCode": 404, "headers": {"Content-Type": "text/plain", "x-a": ["1", "2"]}, "body": "no"}


def test_a_response_without_content_type_is_json_and_a_json_body_is_serialized() -> None:
    answer = http_response({"statusCode": 200, "body": {"ok": True}})
    assert answer["headers"] == {"content-type": "application/json"} and answer["body"] == '{"ok": true}'


def test_direct_invocations_keep_dicts_and_lists_and_wrap_the_rest() -> None:
    assert as_result({"a": 1}) == {"a": 1} and as_result([1]) == [1]
    assert as_result("hi") == {"result": "hi"} and as_result(None) == {"result": None}
    assert is_web_request(WEB) and not is_web_request({"__ow_method": "get"}) and not is_web_request([1])
