import pytest

from core.errors import BadMessage, BadRequest
from core.ids import new_activation_id, new_auth_key
from core.keys import hash_secret, secret_matches
from core.messages import Completion, Invocation, Record, ending_fields
from core.models import Action, Activation, ActivationResponse, Exec, KeyValue
from core.names import check_name
from core.params import init_env, run_params
from tests.factories import make_action


def action(parameters: list[KeyValue], annotations: list[KeyValue] | None = None) -> Action:
    return Action(
        namespace="ns",
        name="a",
        exec=Exec(kind="python:3.11", code="x"),
        parameters=parameters,
        annotations=annotations or [],
    )


def test_body_overrides_action_parameters_and_init_parameters_stay_out() -> None:
    a = action([KeyValue(key="x", value=1), KeyValue(key="y", value=2), KeyValue(key="S", value="s", init=True)])
    assert run_params(a, {"y": 3}) == {"x": 1, "y": 3}
    assert init_env(a) == {"S": "s"}


def test_final_freezes_parameters_that_have_a_value() -> None:
    a = action([KeyValue(key="x", value=1), KeyValue(key="open", value=None)], [KeyValue(key="final", value=True)])
    assert run_params(a, {"open": 5}) == {"x": 1, "open": 5}
    with pytest.raises(BadRequest, match="x"):
        run_params(a, {"x": 2})


def test_init_env_values_are_stringified() -> None:
    a = action([KeyValue(key=k, value=v, init=True) for k, v in {"n": None, "i": 3, "o": {"a": [1]}}.items()])
    assert init_env(a) == {"n": "", "i": "3", "o": '{"a":[1]}'}


def test_invocation_round_trips_and_tolerates_unknown_fields() -> None:
    inv = Invocation(
        activation_id=new_activation_id(),
        namespace="ns",
        subject="ns",
        action=action([]).without_code(),
        params={"a": 1},
        accepted_ms=1,
    )
    fields = {k.encode(): v.encode() for k, v in inv.to_fields().items()}
    assert Invocation.from_fields(fields) == inv
    extended = inv.model_dump_json()[:-1] + ', "added_later": 1}'
    assert Invocation.from_fields({b"body": extended.encode()}) == inv
    with pytest.raises(BadMessage):
        Invocation.from_fields({b"body": b"{}"})
    with pytest.raises(BadMessage):
        Invocation.from_fields({})


def test_keys_are_openwhisk_shaped_and_only_their_hash_matches() -> None:
    uuid, secret = new_auth_key()
    assert len(uuid) == 36 and len(secret) == 64 and secret.isalnum()
    assert secret_matches(secret, hash_secret(secret))
    assert not secret_matches(secret + "x", hash_secret(secret))
    assert len(new_activation_id()) == 32


@pytest.mark.parametrize("name", ["hello", "a.b-c@d&e f", "_x", "9"])
def test_legal_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "a/b", "trailing ", "x" * 257, "é"])
def test_illegal_names(name: str) -> None:
    with pytest.raises(BadRequest):
        check_name(name)


def test_an_ending_renders_the_record_once_as_each_message_would() -> None:
    invocation = Invocation(
        activation_id=new_activation_id(),
        namespace="ns",
        subject="ns",
        action=make_action().without_code(),
        params={},
        accepted_ms=1,
    )
    response = ActivationResponse(status="success", result={"ok": "é\\u2028"})
    record = invocation.record(response, start=5, end=9, annotations=[KeyValue(key="waitTime", value=4)], logs=["x"])
    assert record == Activation.model_validate(record.model_dump())  # built without validation, yet valid
    record_fields, completion_fields = ending_fields(record)
    assert Record.from_fields({b"body": record_fields["body"].encode()}) == Record(activation=record)
    completion = Completion.from_fields({b"body": completion_fields["body"].encode()})
    assert completion == Completion(activation_id=record.activation_id, activation=record)
    assert record_fields == Record(activation=record).to_fields()


def test_a_web_secret_does_not_travel_with_the_action_but_the_key_requirement_may() -> None:
    notes = [KeyValue(key="require-whisk-auth", value="s3cret"), KeyValue(key="web-export", value=True)]
    assert "s3cret" not in action([], notes).for_dispatch().model_dump_json()
    keyed = action([], [KeyValue(key="require-whisk-auth", value=True)]).for_dispatch()
    assert keyed.annotation("require-whisk-auth") is True  # nothing secret in "the owner's key is required"
