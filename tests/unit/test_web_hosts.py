"""Per-namespace web hosts (gateway/web_hosts.py): which host is whose, and where user content moves."""

from gateway.web_hosts import has_web_host, moved_to, namespace_of_host, on_web_host


def test_a_namespace_host_is_one_dns_label_under_the_web_domain() -> None:
    assert namespace_of_host("alice.web.example.com", "web.example.com") == "alice"
    assert namespace_of_host("Alice.WEB.example.com:8443", "web.example.com") == "alice"
    for host in (
        "web.example.com",
        "a.b.web.example.com",
        "alice.example.com",
        "-x.web.example.com",
        "[::1]:80",
        "alice.web.example.com.evil.org",
        "evilweb.example.com",
    ):
        assert namespace_of_host(host, "web.example.com") is None, host
    assert has_web_host("team-7") and not has_web_host("Team_X") and not has_web_host("a@b")


def test_a_namespace_hosts_paths_are_its_web_actions_and_routes() -> None:
    assert on_web_host("alice", "/default/app.json/x") == "/api/v1/web/alice/default/app.json/x"
    assert on_web_host("alice", "/api/shop/items/7") == "/api/alice/shop/items/7"
    assert on_web_host("alice", "/apiary") == "/api/v1/web/alice/apiary"


def test_user_content_on_the_api_host_moves_and_the_api_stays() -> None:
    assert moved_to("/api/v1/web/alice/default/app/x") == ("alice", "/default/app/x")
    assert moved_to("/api/alice/shop/items") == ("alice", "/api/shop/items")
    for api in ("/api/v1/namespaces/_/actions", "/api/v1", "/api/v1/web", "/console/", "/ping"):
        assert moved_to(api) is None, api
