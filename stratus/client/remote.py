"""Remote functions: `@client.function()` deploys a local function as an action and calls it there.

```python
client = stratus.Client()

@client.function(requirements=["humanize==4.9.0"], memory_mb=256, timeout_s=30)
def size(n: int) -> str:
    return humanize.naturalsize(n)

size(3_000_000)                    # '3.0 MB', computed in a container; RemoteFunctionError if it raised
await size.async_call(3_000_000)   # the same from asyncio
handle = size.spawn(3_000_000)     # fire and forget: an ActivationHandle
handle.result(timeout_s=60)        # polls the record
```

The action is deployed on first use, and again only when the code, the requirements or the limits changed:
their hash is stored in the action's `stratus-source-hash` annotation and compared first. Requirements are
installed on this host and shipped inside the action's zip (stratus.client.vendor); they are also recorded in
the `stratus-requirements` annotation. Arguments and the return value travel as JSON.
"""

import asyncio
import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self

from stratus.client.calls import Json
from stratus.client.code import ENTRY_FILE, KIND, zip_files
from stratus.client.errors import ActivationFailed, NotFoundError, RemoteFunctionError
from stratus.client.source import action_source, call_params, source_hash
from stratus.client.vendor import vendor_requirements

HASH_ANNOTATION = "stratus-source-hash"
REQUIREMENTS_ANNOTATION = "stratus-requirements"
BLOCKING_MARGIN_S = 30.0  # how long past the function's own timeout we poll for its record


@dataclass(frozen=True)
class FunctionOptions:
    name: str | None = None  # the action's name; default: the function's name
    requirements: list[str] = field(default_factory=list)
    memory_mb: int | None = None
    timeout_s: float | None = None
    concurrency: int | None = None

    def limits(self) -> dict[str, int]:
        given = {"memory": self.memory_mb, "concurrency": self.concurrency}
        given["timeout"] = int(self.timeout_s * 1000) if self.timeout_s is not None else None
        return {k: v for k, v in given.items() if v is not None}


class AsyncApi(Protocol):
    """What `async_call` uses of an AsyncClient."""

    async def invoke(self, name: str, params: dict[str, Json] | None = None, **options: Any) -> Json: ...

    async def wait_activation(
        self, activation_id: str, timeout_s: float = 60, interval_s: float = 0.2
    ) -> dict[str, Json]: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None: ...


class Api(Protocol):
    """What a remote function uses of a Client (stratus.client.client, which imports this module: not the reverse)."""

    def get_action(self, name: str, *, code: bool = True) -> dict[str, Json]: ...

    def put_action(self, name: str, body: dict[str, Json], *, overwrite: bool = False) -> dict[str, Json]: ...

    def invoke(self, name: str, params: dict[str, Json] | None = None, **options: Any) -> Json: ...

    def wait_activation(
        self, activation_id: str, timeout_s: float = 60, interval_s: float = 0.2
    ) -> dict[str, Json]: ...

    def async_client(self) -> AsyncApi: ...


def function(client: Api, **options: Any) -> Callable[[Callable[..., Any]], "RemoteFunction"]:
    settings = FunctionOptions(**options)
    return lambda fn: RemoteFunction(client, fn, settings)


class RemoteFunction:
    fn: Callable[..., Any]

    def __init__(self, client: Api, fn: Callable[..., Any], options: FunctionOptions) -> None:
        if isinstance(fn, RemoteFunction):  # redeploying another one's function under new options
            fn = fn.fn
        functools.update_wrapper(self, fn, updated=())  # name and docstring, not the function's __dict__
        self.client = client
        self.fn = fn
        self.options = options
        self.name = options.name or fn.__name__
        self.source = action_source(fn)
        self.hash = source_hash(self.source, options.requirements, options.limits())
        self._deployed = False

    def deploy(self) -> bool:
        """Create or update the action unless it already runs this code; True when it wrote the action."""
        try:
            current = self.client.get_action(self.name, code=False)
        except NotFoundError:
            current = {}
        notes = {a["key"]: a.get("value") for a in current.get("annotations", [])}
        changed = notes.get(HASH_ANNOTATION) != self.hash
        if changed:
            self.client.put_action(self.name, self.action_body(), overwrite=True)
        self._deployed = True
        return changed

    def action_body(self) -> dict[str, Any]:
        requirements = self.options.requirements
        code = self.source
        if requirements:
            files = {ENTRY_FILE: self.source.encode()} | vendor_requirements(requirements)
            code = base64.b64encode(zip_files(files)).decode()
        annotations = [
            {"key": HASH_ANNOTATION, "value": self.hash},
            {"key": REQUIREMENTS_ANNOTATION, "value": requirements},
        ]
        return {"exec": {"kind": KIND, "code": code}, "limits": self.options.limits(), "annotations": annotations}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run remotely and wait: the function's return value, or RemoteFunctionError carrying the activation id."""
        params = call_params(self.fn, args, kwargs)
        if not self._deployed:
            self.deploy()
        try:
            answer = self.client.invoke(self.name, params, blocking=True)
        except ActivationFailed as exc:
            raise translate(exc) from None
        if "response" not in answer:  # the blocking wait ran out: the activation goes on
            answer = self.client.wait_activation(answer["activationId"], self._wait_s())
        return unwrap(answer)

    async def async_call(self, *args: Any, **kwargs: Any) -> Any:
        """The same as calling it, from asyncio."""
        params = call_params(self.fn, args, kwargs)
        if not self._deployed:
            await asyncio.to_thread(self.deploy)
        async with self.client.async_client() as client:
            try:
                answer = await client.invoke(self.name, params, blocking=True)
            except ActivationFailed as exc:
                raise translate(exc) from None
            if "response" not in answer:
                answer = await client.wait_activation(answer["activationId"], self._wait_s())
        return unwrap(answer)

    def spawn(self, *args: Any, **kwargs: Any) -> "ActivationHandle":
        """Fire and forget: start the function and return at once with a handle to its activation."""
        params = call_params(self.fn, args, kwargs)
        if not self._deployed:
            self.deploy()
        answer = self.client.invoke(self.name, params)
        return ActivationHandle(self.client, answer["activationId"])

    def _wait_s(self) -> float:
        return (self.options.timeout_s or 60.0) + BLOCKING_MARGIN_S


class ActivationHandle:
    """One running (or finished) activation of a remote function."""

    def __init__(self, client: Api, activation_id: str) -> None:
        self.client = client
        self.activation_id = activation_id

    def result(self, timeout_s: float = 60.0) -> Any:
        """The return value once the record exists; ActivationPending when it does not within timeout_s."""
        return unwrap(self.client.wait_activation(self.activation_id, timeout_s))

    def __repr__(self) -> str:
        return f"ActivationHandle({self.activation_id!r})"


def unwrap(record: dict[str, Any]) -> Any:
    """The function's return value from its activation record, or the error it stands for."""
    response = record["response"]
    result = response.get("result")
    if response.get("status") == "success" and isinstance(result, dict) and "result" in result:
        return result["result"]
    error = result.get("error") if isinstance(result, dict) else None
    text = error if isinstance(error, str) else f"unexpected result {result!r}"
    what = f"the function failed ({response.get('status')}): {text}"
    raise translate(ActivationFailed(502, what, "", record["activationId"], result))


def translate(exc: ActivationFailed) -> ActivationFailed:
    """A failure the function raised itself becomes a RemoteFunctionError with its type and traceback."""
    error = exc.result.get("error") if isinstance(exc.result, dict) else None
    if isinstance(error, dict) and {"type", "message", "traceback"} <= error.keys() and exc.activation_id:
        return RemoteFunctionError(exc.activation_id, error["type"], error["message"], error["traceback"])
    return exc
