"""What a web action sees of a request, and what it may set in a browser (gateway/web_headers.py).

Each test is hostile: a header or cookie that must not reach the function, beside one that must (the
positive control showing the filter is not simply dropping everything)."""

from gateway.web_headers import CookieScope, action_headers, cookie_prefix, own_cookies, scoped_response_headers

PREFIX = "/api/v1/web/alice/default/app"


def seen(headers: dict[str, str], *, checked_auth: bool = False, namespace: str = "alice") -> dict[str, str]:
    return action_headers(headers, namespace, PREFIX, checked_auth=checked_auth)


def test_platform_credentials_never_reach_the_function() -> None:
    got = seen({"Authorization": "Basic dXVpZDprZXk=", "X-Require-Whisk-Auth": "s3cret", "X-Other": "kept"})
    assert got == {"x-other": "kept", "x-forwarded-prefix": PREFIX}


def test_an_apps_own_bearer_token_goes_through_unless_the_gateway_checked_the_caller() -> None:
    assert seen({"authorization": "Bearer app-token"})["authorization"] == "Bearer app-token"
    assert "authorization" not in seen({"authorization": "Bearer app-token"}, checked_auth=True)


def test_the_prefix_header_is_the_gateways_not_the_callers() -> None:
    assert seen({"x-forwarded-prefix": "/evil"})["x-forwarded-prefix"] == PREFIX


def test_only_the_namespaces_own_cookies_reach_it_under_their_own_names() -> None:
    header = "bob~session=BOBS; alice~sid=mine; plain=api; __Host-alice~csrf=t; __Host-bob~csrf=u; alice~=x"
    assert seen({"cookie": header})["cookie"] == "sid=mine; __Host-csrf=t"
    assert "cookie" not in seen({"cookie": header}, namespace="carol")  # none of carol's: no header at all
    assert own_cookies("bob~session=BOBS", "bob") == "session=BOBS"  # the positive control: bob gets his own


def test_set_cookie_is_renamed_into_the_namespace_its_path_kept_inside_and_its_domain_dropped() -> None:
    headers = [
        ("Set-Cookie", "sid=1; Path=/api/v1/web/alice/default/other; Domain=example.com; HttpOnly"),
        ("Set-Cookie", "__Secure-t=2; Secure"),
        ("Set-Cookie", "u=3; Path=/"),
        ("Set-Cookie", "v=4; path=/api/v1/web/bob/default/app"),
        ("Content-Type", "text/html"),
    ]
    scope = CookieScope("alice", "/api/v1/web/alice/", PREFIX)
    assert scoped_response_headers(headers, scope) == [
        ("Set-Cookie", "alice~sid=1; HttpOnly; Path=/api/v1/web/alice/default/other"),  # inside alice's: kept
        ("Set-Cookie", f"__Secure-alice~t=2; Secure; Path={PREFIX}"),
        ("Set-Cookie", f"alice~u=3; Path={PREFIX}"),
        ("Set-Cookie", f"alice~v=4; Path={PREFIX}"),  # bob's URLs: not alice's to set
        ("Content-Type", "text/html"),
    ]
    spaced = CookieScope("a b", "/api/v1/web/a b/", "/api/v1/web/a b/default/x")
    assert scoped_response_headers([("set-cookie", "k=1")], spaced)[0][1].endswith("Path=/api/v1/web/a%20b/default/x")


def test_namespaces_with_characters_a_cookie_name_cannot_hold_get_a_hashed_prefix() -> None:
    odd = cookie_prefix("a@b c")
    assert odd.startswith("%") and odd.endswith("~") and " " not in odd and "@" not in odd
    assert odd != cookie_prefix("a@b d") and cookie_prefix("alice") == "alice~"
    assert own_cookies(f"{odd}sid=1; alice~sid=2", "a@b c") == "sid=1"
