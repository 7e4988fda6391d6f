"""Chaos: under steady traffic, kill -9 and restart each part of a cluster in turn, then account for every
accepted activation: none lost, none with two records, none run twice, and every refused request
answered (a 5xx to retry, or a dropped connection), never a hang.

The cluster is processes on this host (tests/chaos/cluster.py): redis-server with its append-only file,
the MongoDB-wire activation store, MariaDB, a gateway, two controllers, two invokers. Prints the table
README's "Chaos" section shows.
"""

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest
from pymongo import MongoClient

from tests.chaos.cluster import Cluster
from tests.chaos.traffic import RUNNER, RunCounter, Traffic
from tests.conftest import docker_engine

pytestmark = [pytest.mark.chaos, pytest.mark.docker, pytest.mark.timeout(900)]

FAULTS = ["gateway", "controller 1", "invoker 1", "redis", "activation store", "entity store"]
RATE = 18.0  # requests per second: about 2,600 in the run, over 2,000 accepted with the refusals of each outage
STEADY_S, DOWN_S, AFTER_S = 6.0, 5.0, 10.0
RECORDS_WAIT_S = 180.0
TABLE: list[str] = []  # the report's lines, printed at the end of the run


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    docker_engine().close()  # skip without an engine
    found = Cluster(tmp_path / "cluster")
    try:
        found.start()
        yield found
    finally:
        found.stop()


def function_network_gateway(network: str) -> str:
    engine = docker.from_env()
    try:
        for _ in range(300):
            found = [n for n in engine.networks.list(names=[network]) if n.name == network]
            if len(found) == 1:  # the invokers settle on one (invoker.driver.DockerDriver.ensure_network)
                return str(found[0].attrs["IPAM"]["Config"][0]["Gateway"])
            time.sleep(0.1)
    finally:
        engine.close()
    raise AssertionError(f"the invokers did not create {network}")


async def faults(cluster: Cluster, traffic: Traffic, windows: dict[str, tuple[float, float]]) -> None:
    for name in FAULTS:
        traffic.phase = f"before {name}"
        await asyncio.sleep(STEADY_S)
        part = cluster.parts[name]
        traffic.phase = name
        started = time.monotonic()
        await asyncio.to_thread(part.kill)
        await asyncio.sleep(DOWN_S)
        await asyncio.to_thread(part.start)
        await asyncio.sleep(AFTER_S)
        windows[name] = (started, time.monotonic())
    traffic.phase = "after"
    await asyncio.sleep(STEADY_S)


def test_every_accepted_activation_ends_with_one_record_and_runs_at_most_once(cluster: Cluster) -> None:
    counter = RunCounter("0.0.0.0")  # functions reach it through their network's gateway address
    try:
        host = function_network_gateway(cluster.network)
        port = counter.address.rsplit(":", 1)[1]
        actions = deploy(cluster, RUNNER % f"{host}:{port}")
        traffic = Traffic(cluster.api, cluster.key, actions, RATE)
        windows: dict[str, tuple[float, float]] = {}

        async def main() -> None:
            stop = asyncio.Event()
            load = asyncio.create_task(traffic.run(stop))
            try:
                await faults(cluster, traffic, windows)
            finally:
                stop.set()
                await load

        asyncio.run(main())
        accepted = {o.activation_id for o in traffic.outcomes if o.activation_id}
        records = wait_records(cluster, accepted)
        report(traffic, windows, records, counter.runs)
        lost = accepted - set(records)
        assert not lost, f"{len(lost)} accepted activations without a record\n{cluster.logs()}"
        assert max(records.values(), default=1) == 1, "an activation with two records"
        twice = {a: n for a, n in counter.runs.items() if n > 1}
        assert not twice, f"activations run more than once: {twice}"
        unanswered = [o for o in traffic.outcomes if o.status is None and o.latency_s >= 110]
        assert not unanswered, f"{len(unanswered)} requests hung"
        wrong = Counter(
            o.status for o in traffic.outcomes if o.status and o.status < 500 and o.status not in (200, 202)
        )
        assert not wrong, f"answers a client cannot retry: {wrong}"
        assert len(accepted) >= 2000, f"only {len(accepted)} of {len(traffic.outcomes)} requests accepted"
    finally:
        counter.close()


def deploy(cluster: Cluster, code: str) -> list[str]:
    uuid, _, secret = cluster.key.partition(":")
    names = [f"chaos-{n}" for n in range(4)]
    with httpx.Client(base_url=cluster.api, auth=(uuid, secret), timeout=60, trust_env=False) as client:
        for name in names:
            body = {"exec": {"kind": "python:3.11", "code": code}, "limits": {"memory": 128, "timeout": 20000}}
            client.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
            answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={})  # warm, and a probe
            assert answer.status_code == 200, f"{answer.text}\n{cluster.logs()}"
    return names


def wait_records(cluster: Cluster, accepted: set[str]) -> dict[str, int]:
    """Records per accepted activation id, once every one has a record or the wait ran out."""
    mongo: MongoClient[dict[str, object]] = MongoClient(cluster.env["STRATUS_MONGO_URL"])
    try:
        collection = mongo["stratus"]["activations"]
        deadline = time.monotonic() + RECORDS_WAIT_S
        while True:
            found = Counter(str(doc["_id"]) for doc in collection.find({"namespace": "chaos"}, {"_id": 1}))
            if accepted <= set(found) or time.monotonic() > deadline:
                return {a: found[a] for a in accepted if found[a]}
            time.sleep(1)
    finally:
        mongo.close()


def report(
    traffic: Traffic, windows: dict[str, tuple[float, float]], records: dict[str, int], runs: Counter[str]
) -> None:
    """The table README shows; also in the run's summary (tests/chaos/conftest.py)."""
    show = TABLE.append
    show(f"Chaos: {RATE:.0f} requests/s (40 % blocking, 0-2 s functions), kill -9 then restart after {DOWN_S:.0f} s")
    show(f"{'fault':<18}{'sent':>6}{'accepted':>10}{'recorded':>10}{'lost':>6}{'twice':>7}{'refused':>9}{'p99 s':>8}")
    for name in FAULTS:
        start, end = windows[name]
        during = [o for o in traffic.outcomes if start <= o.sent_s < end]
        ids = [o.activation_id for o in during if o.activation_id]
        recorded = sum(1 for a in ids if a in records)
        twice = sum(1 for a in ids if runs[a] > 1)
        refused = sum(1 for o in during if not o.activation_id)
        answered = sorted(o.latency_s for o in during if o.status is not None)
        p99 = answered[int(0.99 * (len(answered) - 1))] if answered else float("nan")
        row = f"{name:<18}{len(during):>6}{len(ids):>10}{recorded:>10}{len(ids) - recorded:>6}{twice:>7}"
        show(row + f"{refused:>9}{p99:>8.2f}")
    total = [o.activation_id for o in traffic.outcomes if o.activation_id]
    show(f"{'all':<18}{len(traffic.outcomes):>6}{len(total):>10}{sum(1 for a in total if a in records):>10}")
    median = statistics.median(o.latency_s for o in traffic.outcomes if o.status == 200) if total else 0.0
    show(f"median latency of a blocking call answered 200: {median:.2f} s")
