"""Waiting for the stores at a service's start: `python -m core.stores.wait` returns once Redis, the
activation store and the entity store named by STRATUS_REDIS_URL, STRATUS_MONGO_URL and
STRATUS_ENTITIES_URL each answer a request as this service's user, or exits 1 after STRATUS_STORES_WAIT_S
(default 300) saying which did not, and its last error.

deploy/stratus-service.sh runs it before a platform service, so compose starts the services once the
stores' containers have started, not once their health checks pass. A health check is a `docker exec`
(about 65 ms of CPU in runc, containerd and dockerd); three every 2 s, there to order the stack's start,
kept an idle stack's host 9.5-10 % busy against 4.2-4.3 % now (README, performance). Now nothing waits
on them, so they run about every 30 s (each service at an interval of its own), for `docker compose ps`.

"Answers" is what the service itself needs, not an open port: on a first start the official MariaDB and
MongoDB images initialise their data with a temporary server that takes no outside connection (and the
stratus user does not exist yet), and a published port (the invoker's path, in the host's network)
accepts connections before anything listens behind it.
"""

import asyncio
import functools
import os
import sys
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

TRY_EVERY_S = 0.5
REPORT_EVERY_S = 10.0
ATTEMPT_TIMEOUT_S = 3.0


async def redis_answers(url: str) -> None:
    client = aioredis.Redis.from_url(url, socket_timeout=ATTEMPT_TIMEOUT_S, socket_connect_timeout=ATTEMPT_TIMEOUT_S)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def mongo_answers(url: str) -> None:
    timeout_ms = int(ATTEMPT_TIMEOUT_S * 1000)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        await client.admin.command("ping")  # on a connection that authenticated first, when the URL names a user
    finally:
        await client.close()


async def entities_answer(url: str) -> None:
    engine = create_async_engine(
        url, connect_args={"connect_timeout": int(ATTEMPT_TIMEOUT_S)} if "mysql" in url else {}
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


Probe = Callable[[], Awaitable[None]]


async def wait_for(probes: dict[str, Probe], limit_s: float, report: Callable[[str], None]) -> list[str]:
    """Try each probe until it succeeds; the names of those still failing after `limit_s` (empty: all answer)."""
    started = time.monotonic()
    reported = started
    errors: dict[str, str] = {name: "not tried yet" for name in probes}
    while errors:
        for name in list(errors):
            try:
                await asyncio.wait_for(probes[name](), ATTEMPT_TIMEOUT_S * 2)
                del errors[name]
            except Exception as exc:  # anything a store not ready yet raises: refused, auth, timeout, ...
                errors[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        now = time.monotonic()
        if not errors:
            break
        if now - started >= limit_s:
            for name, error in errors.items():
                report(f"{name} did not answer within {limit_s:.0f} s: {error}")
            return list(errors)
        if now - reported >= REPORT_EVERY_S:
            reported = now
            report(f"waiting for {', '.join(f'{n} ({e})' for n, e in errors.items())}: {now - started:.0f} s")
        await asyncio.sleep(TRY_EVERY_S)
    return []


def main() -> int:
    named: list[tuple[str, str, Callable[[str], Awaitable[None]]]] = [
        ("redis", "STRATUS_REDIS_URL", redis_answers),
        ("the activation store", "STRATUS_MONGO_URL", mongo_answers),
        ("the entity store", "STRATUS_ENTITIES_URL", entities_answer),
    ]
    probes: dict[str, Probe] = {
        name: functools.partial(probe, url) for name, variable, probe in named if (url := os.environ.get(variable))
    }

    def report(line: str) -> None:
        print(f"stratus-service: {line}", file=sys.stderr, flush=True)

    raw_limit = os.environ.get("STRATUS_STORES_WAIT_S") or "300"
    try:
        limit_s = float(raw_limit)
    except ValueError:
        limit_s = -1.0
    if not 0 < limit_s < float("inf"):
        report(f"STRATUS_STORES_WAIT_S must be a number of seconds above 0, not {raw_limit!r}")
        return 2

    started = time.monotonic()
    failing = asyncio.run(wait_for(probes, limit_s, report))
    if failing:
        report("check that the stores are up (docker compose ps; docker compose logs redis mongo mysql)")
        return 1
    report(f"{', '.join(probes)} answered after {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
