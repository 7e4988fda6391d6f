"""From what the proxy answered (or failed to) to an ActivationResponse: OpenWhisk's table, pure.

| situation                                   | status                 | container |
|---------------------------------------------|------------------------|-----------|
| /run 200, dict without `error`, or a list   | success                | kept      |
| /run 200, dict with `error`                 | application error      | kept      |
| /run result larger than the limit           | application error      | kept      |
| /run answer (result + logs) far larger      | action developer error | destroyed |
| /run non-200, or not JSON                   | action developer error | destroyed |
| /run result past core.json_values' limits| action developer error | destroyed |
| /init failed, timed out, or the process died| action developer error | destroyed |
| time limit, memory limit                    | action developer error | destroyed |
| the container could not be provisioned      | whisk internal error   | —         |
| a blackbox action's image is not on the engine | action developer error | —       |
"""

from typing import Any

from core import limits as L
from core.json_values import find_problem
from core.logs_format import log_line
from core.models import ActivationResponse
from invoker.proxy_client import ProxyAnswer

TRUNCATION_PREFIX_CHARS = 1024


def _error(status: Any, message: Any, size: int | None = None) -> ActivationResponse:
    return ActivationResponse(status=status, result={"error": message}, size=size)


def from_run(answer: ProxyAnswer) -> ActivationResponse:
    response = _from_run(answer)
    problem = find_problem(response.result)
    if problem is not None:  # the record could not be kept (BSON), or not read back by every consumer
        return _error("action developer error", f"The action's result cannot be recorded: {problem}.", response.size)
    return response


def _from_run(answer: ProxyAnswer) -> ActivationResponse:
    size = len(answer.raw)
    if answer.status == 200 and isinstance(answer.body, dict | list):
        if size > L.RESULT_MAX_BYTES:
            return _error(
                "application error",
                (
                    f"The action produced a response that exceeded the allowed length: {size} > {L.RESULT_MAX_BYTES} "
                    f"bytes. The truncated response was: {answer.raw[:TRUNCATION_PREFIX_CHARS]}"
                ),
                size,
            )
        if isinstance(answer.body, dict) and "error" in answer.body:
            return _error("application error", answer.body["error"], size)
        return ActivationResponse(status="success", result=answer.body, size=size)
    if isinstance(answer.body, dict) and "error" in answer.body:
        return _error("action developer error", answer.body["error"], size)
    return _error(
        "action developer error",
        (f"The action did not produce a valid JSON object or array (HTTP {answer.status}): {answer.raw[:4096]}"),
        size,
    )


def answer_limit(logs_mb: int) -> int:
    """The most of a /run answer the invoker reads: the logs the action may keep, a result well past its
    limit (so that one just over it still gets OpenWhisk's truncation message), and the envelope."""
    return logs_mb * L.MB + 2 * L.RESULT_MAX_BYTES + 64 * 1024


def too_large(limit: int) -> ActivationResponse:
    return _error("action developer error", f"The action's answer (result and logs) exceeded {limit} bytes.")


def from_init(answer: ProxyAnswer) -> ActivationResponse:
    if isinstance(answer.body, dict) and "error" in answer.body:
        return _error("action developer error", answer.body["error"])
    return _error("action developer error", f"The action failed to initialize: {answer.raw[:4096]}")


def timed_out(limit_ms: int, *, during_init: bool) -> ActivationResponse:
    where = " during initialization" if during_init else ""
    return _error("action developer error", f"The action exceeded its time limit of {limit_ms} milliseconds{where}.")


def died(*, during_init: bool, oom: bool, memory_mb: int) -> ActivationResponse:
    if oom:
        return _error(
            "action developer error", f"The action exhausted its memory limit of {memory_mb} MB and was aborted."
        )
    if during_init:
        return _error("action developer error", "The action exited unexpectedly during initialization.")
    return _error("action developer error", "The action exited unexpectedly without producing a valid response.")


def not_provisioned(reason: str) -> ActivationResponse:
    return _error("whisk internal error", f"Resources to run the action could not be provisioned: {reason}")


def image_missing(image: str, *, blackbox: bool) -> ActivationResponse:
    """No registry is used: every image must already be on the invoker's engine. A blackbox action's own
    image is the developer's to provide (as a failed pull is in OpenWhisk); a runtime image, the operator's."""
    if blackbox:
        return _error(
            "action developer error",
            f"The action's image '{image}' is not on the invoker's Docker engine; images are never pulled: "
            "build it on every invoker's engine (`stratus image build-action`).",
        )
    return not_provisioned(f"the runtime image {image} is not on the invoker's Docker engine (`stratus image build`)")


def action_missing() -> ActivationResponse:
    return _error("application error", "The action could not be found; it may have been deleted.")


def keeps_container(response: ActivationResponse) -> bool:
    return response.status in ("success", "application error")


def truncate_logs(lines: list[str], limit_mb: int) -> list[str]:
    """Keep whole lines up to the action's log limit, then say where the logs were cut."""
    if limit_mb <= 0:
        return []
    budget = limit_mb * L.MB
    kept: list[str] = []
    used = 0
    for line in lines:
        used += len(line.encode()) + 1
        if used > budget:
            kept.append(log_line("stderr", f"Logs were truncated because they exceeded the limit of {budget} bytes."))
            break
        kept.append(line)
    return kept
