"""OpenWhisk's status table, from the proxy's answers (invoker/outcome.py)."""

import json

from core.limits import MB, RESULT_MAX_BYTES
from invoker import outcome
from invoker.proxy_client import ProxyAnswer, parse


def answer(status: int, body: object) -> ProxyAnswer:
    return ProxyAnswer(status, body, json.dumps(body))


def test_dict_and_list_results_succeed() -> None:
    assert outcome.from_run(answer(200, {"a": 1})).status == "success"
    listed = outcome.from_run(answer(200, [1, 2]))
    assert listed.status == "success" and listed.result == [1, 2]


def test_error_key_is_an_application_error_keeping_only_the_error() -> None:
    response = outcome.from_run(answer(200, {"error": "nope", "other": 1}))
    assert response.status == "application error" and response.result == {"error": "nope"}
    assert outcome.keeps_container(response)


def test_oversized_result_is_an_application_error_with_both_sizes_and_a_prefix() -> None:
    big = {"blob": "x" * (RESULT_MAX_BYTES + 10)}
    response = outcome.from_run(answer(200, big))
    assert response.status == "application error"
    message = response.result["error"]
    assert str(RESULT_MAX_BYTES) in message and str(len(json.dumps(big))) in message and '{"blob": "xxx' in message


def test_non_200_is_a_developer_error_and_destroys_the_container() -> None:
    with_error = outcome.from_run(answer(502, {"error": "not a dict"}))
    assert with_error.status == "action developer error" and with_error.result == {"error": "not a dict"}
    assert not outcome.keeps_container(with_error)
    garbage = outcome.from_run(ProxyAnswer(500, None, "<html>oops</html>"))
    assert garbage.status == "action developer error" and "<html>oops</html>" in garbage.result["error"]


def test_init_timeout_crash_and_oom_messages() -> None:
    assert "during initialization" in outcome.timed_out(500, during_init=True).result["error"]
    assert "500 milliseconds" in outcome.timed_out(500, during_init=False).result["error"]
    assert "memory" in outcome.died(during_init=False, oom=True, memory_mb=128).result["error"]
    assert "initialization" in outcome.died(during_init=True, oom=False, memory_mb=128).result["error"]
    assert outcome.not_provisioned("x").status == "whisk internal error"
    assert outcome.from_init(answer(502, {"error": "SyntaxError"})).result == {"error": "SyntaxError"}


def test_logs_are_cut_at_the_limit_with_a_notice() -> None:
    lines = [f"2026-01-01T00:00:00.000000Z stdout: {'x' * 1000}" for _ in range(2000)]
    kept = outcome.truncate_logs(lines, 1)
    assert len(kept) < len(lines)
    assert sum(len(line) + 1 for line in kept[:-1]) <= MB
    assert "truncated" in kept[-1] and f"{MB} bytes" in kept[-1]
    assert outcome.truncate_logs(lines[:3], 10) == lines[:3]
    assert outcome.truncate_logs(lines, 0) == []


def test_envelope_parsing() -> None:
    parsed = parse(200, json.dumps({"result": {"a": 1}, "logs": ["l1"]}))
    assert parsed.body == {"a": 1} and parsed.logs == ["l1"] and parsed.raw == '{"a":1}'
    plain = parse(200, '{"a": 1}')
    assert plain.body == {"a": 1} and plain.logs == []
    assert parse(502, "not json").body is None


def test_a_result_no_record_could_keep_is_a_developer_error_that_says_why() -> None:
    deep: object = 1
    for _ in range(65):
        deep = [deep]
    for result, says in [
        ({"\x00k": 1}, "the value at \x00k has a key with a NUL character"),
        ({"error": {"n": 2**64}}, "the value at error.n is an integer outside the 64-bit range"),
        ({"x": float("nan")}, "the value at x is not a finite 64-bit number"),
        ({"deep": deep}, "is nested deeper than 64 levels"),
    ]:
        response = outcome.from_run(answer(200, result))
        assert response.status == "action developer error", result
        assert response.result["error"].startswith("The action's result cannot be recorded: ")
        assert says in response.result["error"]
    assert outcome.from_run(answer(200, {"k": "\x00", "n": -(2**63)})).status == "success"
