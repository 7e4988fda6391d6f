"""API routes: path checks and which route a request hits."""

import pytest

from core.errors import BadRequest
from core.models import Cors, Route
from gateway.route_match import check_path, check_verb, find_route


def route(rel_path: str, verb: str = "GET", cors: Cors | None = None) -> Route:
    return Route(namespace="ns", base_path="/shop", rel_path=rel_path, verb=verb, action="a", cors=cors)


def test_paths_are_normalised_and_checked() -> None:
    assert check_path("/shop/", "basePath", max_length=100, templates=False) == "/shop"
    assert check_path("/items/{id}", "relPath", max_length=100, templates=True) == "/items/{id}"
    assert check_path("/", "relPath", max_length=100, templates=True) == "/"
    for bad in ("shop", "/a b", "/{id}", "/" + "x" * 200):
        with pytest.raises(BadRequest):
            check_path(bad, "basePath", max_length=100, templates=False)
    assert check_verb("get") == "GET"
    with pytest.raises(BadRequest):
        check_verb("TRACE")


def test_path_parameters_and_the_most_literal_route_win() -> None:
    routes = [route("/items/{id}"), route("/items/new"), route("/items/{id}/parts/{part}")]
    hit = find_route(routes, "/shop/items/7", "GET")
    assert hit is not None and hit.path_params == {"id": "7"} and hit.rel_path == "/items/7"
    new = find_route(routes, "/shop/items/new", "GET")
    assert new is not None and new.route.rel_path == "/items/new" and new.path_params == {}
    deep = find_route(routes, "/shop/items/7/parts/x", "GET")
    assert deep is not None and deep.path_params == {"id": "7", "part": "x"}
    assert find_route(routes, "/shop/nothing", "GET") is None
    assert find_route(routes, "/elsewhere/items/7", "GET") is None


def test_method_fallbacks_and_missing_methods() -> None:
    routes = [route("/items/{id}"), route("/items/{id}", "POST", cors=Cors())]
    head = find_route(routes, "/shop/items/1", "HEAD")
    assert head is not None and head.route.verb == "GET"
    preflight = find_route(routes, "/shop/items/1", "OPTIONS")
    assert preflight is not None and preflight.route.verb == "POST"  # the route with CORS settings answers
    with pytest.raises(LookupError):
        find_route(routes, "/shop/items/1", "DELETE")
    with pytest.raises(LookupError):
        find_route([route("/x")], "/shop/x", "OPTIONS")  # no CORS, no OPTIONS route
