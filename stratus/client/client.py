"""`Client` and `AsyncClient`: the same API (stratus.client.calls), sent with httpx's sync or async client.

```python
from stratus import Client

with Client() as client:  # host and key from arguments, STRATUS_APIHOST / STRATUS_AUTH, or `stratus property set`
    client.put_action("hello", {"exec": {"kind": "python:3.11", "code": "def main(a): return a"}})
    client.invoke("hello", {"x": 1}, blocking=True, result=True)  # {"x": 1}
```
"""

import asyncio
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from stratus.client import calls, remote
from stratus.client.calls import Call, Json
from stratus.client.errors import ActivationPending, ConnectionFailed, NotFoundError
from stratus.client.remote import RemoteFunction
from stratus.client.settings import ClientSettings, base_url, basic_auth, load_settings

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 30.0


class _Core:
    """What both clients share: settings, the httpx arguments, and turning a Call into a request."""

    def __init__(
        self,
        apihost: str | None = None,
        auth: str | None = None,
        *,
        namespace: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        """None: from STRATUS_APIHOST / STRATUS_AUTH / STRATUS_NAMESPACE, else from the config file."""
        self.settings: ClientSettings = load_settings(apihost=apihost, auth=auth, namespace=namespace)
        self.base_url = base_url(self.settings.apihost)
        self.namespace = self.settings.namespace
        self._auth = basic_auth(self.settings.auth)
        self._timeout_s = timeout_s
        self._open()

    def _open(self) -> None:
        raise NotImplementedError

    def _httpx_args(self) -> dict[str, Any]:
        return {"base_url": f"{self.base_url}/api/v1", "auth": self._auth, "timeout": self._timeout_s}

    def _request(self, call: Call[Any]) -> dict[str, Any]:
        timeout = call.timeout_s if call.timeout_s is not None else self._timeout_s
        body = {"json": call.json} if call.method in ("PUT", "POST") else {}
        return {"method": call.method, "url": call.path, "params": call.params, "timeout": timeout} | body

    def _unreachable(self, exc: httpx.TransportError) -> ConnectionFailed:
        return ConnectionFailed(
            f"cannot reach Stratus at {self.base_url} ({exc.__class__.__name__}: {exc}); is the platform running "
            "(`stratus standalone`)? Check the host with `stratus property get`."
        )


class Client(_Core):
    """Synchronous client; use it as a context manager or call close()."""

    def _open(self) -> None:
        self._http = httpx.Client(**self._httpx_args())

    def send(self, call: Call[T]) -> T:
        try:
            response = self._http.request(**self._request(call))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        calls.check(response)
        return call.parse(response)

    def namespaces(self) -> list[str]:
        return self.send(calls.namespaces())

    def list_actions(self, *, limit: int = 30, skip: int = 0) -> list[dict[str, Json]]:
        return self.send(calls.list_actions(self.namespace, limit=limit, skip=skip))

    def get_action(self, name: str, *, code: bool = True) -> dict[str, Json]:
        return self.send(calls.get_action(self.namespace, name, code=code))

    def put_action(self, name: str, body: dict[str, Json], *, overwrite: bool = False) -> dict[str, Json]:
        return self.send(calls.put_action(self.namespace, name, body, overwrite=overwrite))

    def delete_action(self, name: str) -> dict[str, Json]:
        return self.send(calls.delete_action(self.namespace, name))

    def invoke(self, name: str, params: dict[str, Json] | None = None, **options: Any) -> Json:
        """Options: blocking, result, timeout_ms (see stratus.client.calls.invoke)."""
        return self.send(calls.invoke(self.namespace, name, params, **options))

    def list_activations(self, **filters: Any) -> list[dict[str, Json]]:
        """Filters: name, limit, skip, since, upto, docs."""
        return self.send(calls.list_activations(self.namespace, **filters))

    def get_activation(self, activation_id: str) -> dict[str, Json]:
        return self.send(calls.get_activation(self.namespace, activation_id))

    def activation_logs(self, activation_id: str) -> list[str]:
        return self.send(calls.activation_logs(self.namespace, activation_id))

    def activation_result(self, activation_id: str) -> dict[str, Json]:
        return self.send(calls.activation_result(self.namespace, activation_id))

    def put_route(self, route: dict[str, Json]) -> dict[str, Json]:
        """route: basePath, relPath, verb, action (a web action), responseType, cors."""
        return self.send(calls.put_route(self.namespace, route))

    def list_routes(self, *, base_path: str | None = None) -> list[dict[str, Json]]:
        return self.send(calls.list_routes(self.namespace, base_path=base_path))

    def delete_routes(self, base_path: str, **which: str | None) -> list[dict[str, Json]]:
        """which: rel_path, verb."""
        return self.send(calls.delete_routes(self.namespace, base_path, **which))

    def put_entity(
        self, collection: str, name: str, body: dict[str, Json], *, overwrite: bool = False
    ) -> dict[str, Json]:
        """A package (or binding), trigger or rule: collection "packages", "triggers" or "rules"."""
        return self.send(calls.put_entity(self.namespace, collection, name, body, overwrite=overwrite))

    def get_entity(self, collection: str, name: str) -> dict[str, Json]:
        return self.send(calls.get_entity(self.namespace, collection, name))

    def list_entities(self, collection: str, *, limit: int = 30, skip: int = 0) -> list[dict[str, Json]]:
        return self.send(calls.list_entities(self.namespace, collection, limit=limit, skip=skip))

    def delete_entity(self, collection: str, name: str, *, force: bool = False) -> dict[str, Json]:
        return self.send(calls.delete_entity(self.namespace, collection, name, force=force))

    def put_package(self, name: str, body: dict[str, Json], *, overwrite: bool = False) -> dict[str, Json]:
        """body: parameters, annotations, publish; or `binding: {"namespace", "name"}` for a binding."""
        return self.put_entity("packages", name, body, overwrite=overwrite)

    def put_trigger(self, name: str, body: dict[str, Json], *, overwrite: bool = False) -> dict[str, Json]:
        return self.put_entity("triggers", name, body, overwrite=overwrite)

    def put_rule(self, name: str, trigger: str, action: str, *, overwrite: bool = False) -> dict[str, Json]:
        return self.put_entity("rules", name, {"trigger": trigger, "action": action}, overwrite=overwrite)

    def fire_trigger(self, name: str, payload: dict[str, Json] | None = None) -> str | None:
        """The trigger's activation id; None when no rule is active."""
        return self.send(calls.fire_trigger(self.namespace, name, payload))

    def set_rule_status(self, name: str, status: str) -> None:
        """status: "active" or "inactive"."""
        self.send(calls.set_rule_status(self.namespace, name, status))

    def feed(self, feed_path: str, event: str, trigger: str, params: dict[str, Json] | None = None) -> Json:
        """A feed lifecycle event, e.g. feed("/whisk.system/alarms/alarm", "CREATE", "/_/t", {"cron": ...})."""
        return self.send(calls.feed(feed_path, event, trigger, params))

    def wait_activation(self, activation_id: str, timeout_s: float = 60, interval_s: float = 0.2) -> dict[str, Json]:
        """The record once it exists; ActivationPending when it does not within timeout_s."""
        poll = Poll(activation_id, timeout_s, interval_s)
        while True:
            try:
                return self.get_activation(activation_id)
            except NotFoundError:
                time.sleep(poll.next_delay())

    def function(self, **options: Any) -> Callable[[Callable[..., Any]], RemoteFunction]:
        """Decorator: deploy a local function as an action, call it remotely (see stratus.client.remote)."""
        return remote.function(self, **options)

    def async_client(self) -> "AsyncClient":
        """A new AsyncClient on this client's host, key and namespace; close it when done."""
        return AsyncClient(self.settings.apihost, self.settings.auth, namespace=self.settings.namespace)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class AsyncClient(_Core):
    """The asyncio twin of Client: the same methods, awaited."""

    def _open(self) -> None:
        self._http = httpx.AsyncClient(**self._httpx_args())

    async def send(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(**self._request(call))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        calls.check(response)
        return call.parse(response)

    async def namespaces(self) -> list[str]:
        return await self.send(calls.namespaces())

    async def list_actions(self, *, limit: int = 30, skip: int = 0) -> list[dict[str, Json]]:
        return await self.send(calls.list_actions(self.namespace, limit=limit, skip=skip))

    async def get_action(self, name: str, *, code: bool = True) -> dict[str, Json]:
        return await self.send(calls.get_action(self.namespace, name, code=code))

    async def put_action(self, name: str, body: dict[str, Json], *, overwrite: bool = False) -> dict[str, Json]:
        return await self.send(calls.put_action(self.namespace, name, body, overwrite=overwrite))

    async def delete_action(self, name: str) -> dict[str, Json]:
        return await self.send(calls.delete_action(self.namespace, name))

    async def invoke(self, name: str, params: dict[str, Json] | None = None, **options: Any) -> Json:
        return await self.send(calls.invoke(self.namespace, name, params, **options))

    async def list_activations(self, **filters: Any) -> list[dict[str, Json]]:
        return await self.send(calls.list_activations(self.namespace, **filters))

    async def get_activation(self, activation_id: str) -> dict[str, Json]:
        return await self.send(calls.get_activation(self.namespace, activation_id))

    async def activation_logs(self, activation_id: str) -> list[str]:
        return await self.send(calls.activation_logs(self.namespace, activation_id))

    async def activation_result(self, activation_id: str) -> dict[str, Json]:
        return await self.send(calls.activation_result(self.namespace, activation_id))

    async def put_route(self, route: dict[str, Json]) -> dict[str, Json]:
        return await self.send(calls.put_route(self.namespace, route))

    async def list_routes(self, *, base_path: str | None = None) -> list[dict[str, Json]]:
        return await self.send(calls.list_routes(self.namespace, base_path=base_path))

    async def put_entity(
        self, collection: str, name: str, body: dict[str, Json], *, overwrite: bool = False
    ) -> dict[str, Json]:
        """A package (or binding), trigger or rule: collection "packages", "triggers" or "rules"."""
        return await self.send(calls.put_entity(self.namespace, collection, name, body, overwrite=overwrite))

    async def get_entity(self, collection: str, name: str) -> dict[str, Json]:
        return await self.send(calls.get_entity(self.namespace, collection, name))

    async def list_entities(self, collection: str, *, limit: int = 30, skip: int = 0) -> list[dict[str, Json]]:
        return await self.send(calls.list_entities(self.namespace, collection, limit=limit, skip=skip))

    async def delete_entity(self, collection: str, name: str, *, force: bool = False) -> dict[str, Json]:
        return await self.send(calls.delete_entity(self.namespace, collection, name, force=force))

    async def put_package(self, name: str, body: dict[str, Json], *, overwrite: bool = False) -> dict[str, Json]:
        """body: parameters, annotations, publish; or `binding: {"namespace", "name"}` for a binding."""
        return await self.put_entity("packages", name, body, overwrite=overwrite)

    async def put_trigger(self, name: str, body: dict[str, Json], *, overwrite: bool = False) -> dict[str, Json]:
        return await self.put_entity("triggers", name, body, overwrite=overwrite)

    async def put_rule(self, name: str, trigger: str, action: str, *, overwrite: bool = False) -> dict[str, Json]:
        return await self.put_entity("rules", name, {"trigger": trigger, "action": action}, overwrite=overwrite)

    async def fire_trigger(self, name: str, payload: dict[str, Json] | None = None) -> str | None:
        """The trigger's activation id; None when no rule is active."""
        return await self.send(calls.fire_trigger(self.namespace, name, payload))

    async def set_rule_status(self, name: str, status: str) -> None:
        """status: "active" or "inactive"."""
        await self.send(calls.set_rule_status(self.namespace, name, status))

    async def feed(self, feed_path: str, event: str, trigger: str, params: dict[str, Json] | None = None) -> Json:
        """A feed lifecycle event, e.g. feed("/whisk.system/alarms/alarm", "CREATE", "/_/t", {"cron": ...})."""
        return await self.send(calls.feed(feed_path, event, trigger, params))

    async def delete_routes(self, base_path: str, **which: str | None) -> list[dict[str, Json]]:
        return await self.send(calls.delete_routes(self.namespace, base_path, **which))

    async def wait_activation(
        self, activation_id: str, timeout_s: float = 60, interval_s: float = 0.2
    ) -> dict[str, Json]:
        poll = Poll(activation_id, timeout_s, interval_s)
        while True:
            try:
                return await self.get_activation(activation_id)
            except NotFoundError:
                await asyncio.sleep(poll.next_delay())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()


class Poll:
    """The waits between polls for a record; ActivationPending once the deadline passed."""

    def __init__(self, activation_id: str, timeout_s: float, interval_s: float) -> None:
        self._activation_id = activation_id
        self._timeout_s = timeout_s
        self._interval_s = interval_s
        self._deadline = time.monotonic() + timeout_s

    def next_delay(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise ActivationPending(self._activation_id, self._timeout_s)
        return min(self._interval_s, left)
