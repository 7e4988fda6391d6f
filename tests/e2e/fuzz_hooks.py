"""Schemathesis hooks of tests/e2e/test_api_fuzz.py, loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS).

- every response's operation and status go to the file STRATUS_FUZZ_LOG names, one line each, so that the
  test can show which operations the run reached, and with which answers;
- half the valid names an invoke is given become `echo`, an action the test made (and kept: no PUT or
  DELETE reaches it);
- a valid activation id becomes one of the records the test wrote (STRATUS_FUZZ_ACTIVATIONS), so that the
  activation reads reach a record, not only the store's 404 (nothing runs the fuzzed invocations);
- most route PUTs name the test's exported web action, which a route must name;
- a blocking wait (`timeout`) in range is cut to 50 ms (one out of range stays, for its 400): the gateway
  has no invoker, and 60 s waits would spend the run's time budget on sleeping.
"""

import os
import re
from typing import Any

import schemathesis

from core import limits as L
from core.names import NAME_PATTERN

ACTIVATION_ID = re.compile(r"[0-9a-f]{32}")
NAME = re.compile(NAME_PATTERN)
WAIT_MS = 50


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: schemathesis.Case, response: schemathesis.Response) -> None:
    said = " ".join(response.text[:200].split()) if response.status_code >= 400 else ""  # one line
    with open(os.environ["STRATUS_FUZZ_LOG"], "a") as log:
        log.write(f"{case.operation.label}\t{response.status_code}\t{said}\n")


@schemathesis.hook
def map_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return path_parameters
    given = path_parameters.get("activation_id")
    if isinstance(given, str) and ACTIVATION_ID.fullmatch(given):
        seeded = os.environ["STRATUS_FUZZ_ACTIVATIONS"].split(",")
        path_parameters["activation_id"] = seeded[int(given, 16) % len(seeded)]
    name = path_parameters.get("name")
    method = context.operation.method.upper() if context.operation is not None else ""
    if method == "POST" and isinstance(name, str) and NAME.fullmatch(name) and len(name) % 2:
        path_parameters["name"] = "echo"  # not `hello`: the examples phase deletes that one
    elif method in ("PUT", "DELETE") and name == "echo":  # links inferred from the invokes lead here
        path_parameters["name"] = "echo-not"
    return path_parameters


@schemathesis.hook
def map_query(context: schemathesis.HookContext, query: dict[str, Any] | None) -> Any:
    wait = query.get("timeout") if query else None
    if isinstance(wait, int) and not isinstance(wait, bool) and WAIT_MS < wait <= L.BLOCKING_WAIT_MAX_MS:
        query["timeout"] = WAIT_MS  # type: ignore[index]
    return query


@schemathesis.hook("map_body")
def route_to_the_web_action(context: schemathesis.HookContext, body: Any) -> Any:
    """A route must name an exported action of the namespace: most routes name the test's `echo`."""
    operation = context.operation
    is_route_put = operation is not None and operation.method.upper() == "PUT" and operation.path.endswith("/routes")
    if is_route_put and isinstance(body, dict) and isinstance(body.get("action"), str) and len(body) % 4:
        body["action"] = "echo"
    return body
