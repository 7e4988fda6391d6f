"""HTTP to the action proxy in a container: /init (retried while the server starts) and /run."""

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

ENVELOPE = {"X-Stratus-Envelope": "1"}
CONNECT_RETRY_S = 0.02


class ProxyTimeout(Exception):
    """No answer within the time limit."""


class ProxyGone(Exception):
    """The connection failed or dropped: the process in the container died or never listened."""


@dataclass(frozen=True)
class ProxyAnswer:
    status: int
    body: Any  # the result (or {"error": ...}) when the proxy answered JSON, else None
    raw: str  # the body as text, for error messages and the result size
    logs: list[str] = field(default_factory=list)


class ProxyClient:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=None,
            trust_env=False,
            limits=httpx.Limits(max_connections=2000, max_keepalive_connections=500),
        )

    async def init(self, address: str, value: dict[str, Any], timeout_s: float) -> ProxyAnswer:
        """POST /init, retrying connection errors (the server may still be starting) until the timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return await self._post(f"{address}/init", {"value": value}, deadline - time.monotonic())
            except ProxyGone:
                if time.monotonic() + CONNECT_RETRY_S >= deadline:
                    raise
                await asyncio.sleep(CONNECT_RETRY_S)

    async def run(self, address: str, payload: dict[str, Any], timeout_s: float) -> ProxyAnswer:
        return await self._post(f"{address}/run", payload, timeout_s)

    async def _post(self, url: str, payload: dict[str, Any], timeout_s: float) -> ProxyAnswer:
        if timeout_s <= 0:
            raise ProxyTimeout()
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._http.post(url, json=payload, headers=ENVELOPE)
        except TimeoutError as exc:
            raise ProxyTimeout() from exc
        except httpx.TransportError as exc:
            raise ProxyGone(str(exc)) from exc
        return parse(response.status_code, response.text)

    async def aclose(self) -> None:
        await self._http.aclose()


def parse(status: int, text: str) -> ProxyAnswer:
    try:
        envelope = json.loads(text)
    except ValueError:
        return ProxyAnswer(status, None, text)
    if isinstance(envelope, dict) and set(envelope) == {"result", "logs"} and isinstance(envelope["logs"], list):
        result = envelope["result"]
        return ProxyAnswer(status, result, json.dumps(result, separators=(",", ":")), envelope["logs"])
    return ProxyAnswer(status, envelope, text)
