"""Benchmark: the activation store's write rate against how many records it holds.

Not part of the test run. Starts the store the way `stratus standalone` does (standalone.embedded, the
SecantusDB wire server in a data dir of its own) and writes activation records through the real
MongoActivationStore, as the recorder does: batches of 100, one in flight, as fast as they go. Beside it, a
probe writes a single record every 0.5 s or so; the controllers' expiry runs every EXPIRE_S. Every 15 s it
prints the records held, the batch rate and the probe's p50 / max: a store whose writes slow down or pause
as it fills shows here in a few minutes, where the platform's soak needs ten.

    python tests/bench/bench_store.py [--records 900000] [--keep SECONDS] [--rate N] [--ttl-index]

--keep: records expire this long after they were written (the default, a week, expires nothing here);
with a minute, the store's size levels off and every record written is also deleted. --rate: write at
most this many records a second (the platform's rate, say), not as fast as the store takes them.
--ttl-index: retention as earlier versions kept it, a TTL index and the store's own sweeper (SecantusDB's
reads every record once a minute) instead of the controllers' expiry: both layouts on the same machine.
("held" then counts what was written: what the sweeper deletes is not counted.)
"""

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from controller.service import EXPIRE_S
from core.lifecycle import every
from core.models import Activation
from core.stores.activations import RECORDED, open_activation_store
from standalone.embedded import embedded_mongo
from tests.bench.bench_throughput import pct
from tests.factories import make_activation

BATCH = 100
PROBE_S = 0.5
REPORT_S = 15.0


def record() -> Activation:
    now = int(time.time() * 1000)
    return make_activation(namespace="guest", subject="guest", name="noop", start=now, end=now + 1, duration=1)


async def run(url: str, args: argparse.Namespace) -> None:
    client, store = await open_activation_store(url, "stratus")
    if args.ttl_index:  # retention as earlier versions kept it: the store's own sweeper, no expiry of ours
        await client["stratus"]["activations"].create_index(RECORDED, expireAfterSeconds=int(args.keep))
    else:
        await store.keep_for(args.keep)
    written, probed, expired, probes = 0, 0, 0, list[float]()
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal probed
        while not done.is_set():
            started = time.perf_counter()
            await store.put(record())
            probes.append((time.perf_counter() - started) * 1000)
            probed += 1
            await asyncio.sleep(random.uniform(0.5, 1.5) * PROBE_S)  # at random times: not in step with expiry

    async def expire() -> None:
        nonlocal expired
        expired += await store.expire()

    expiry = every(EXPIRE_S, done, expire, "expiring activation records")  # as the controllers run it
    tasks = [asyncio.create_task(probe()), asyncio.create_task(expiry)]
    print(f"{'t (s)':>6}{'records':>10}{'held':>10}{'written/s':>11}{'probe p50':>11}{'probe max':>11}")
    started = last = time.perf_counter()
    last_written = 0
    while written < args.records:
        await store.put_many([record() for _ in range(BATCH)])
        written += BATCH
        if args.rate and (ahead := written / args.rate - (time.perf_counter() - started)) > 0:
            await asyncio.sleep(ahead)
        if (now := time.perf_counter()) - last >= REPORT_S or written >= args.records:
            rate = (written - last_written) / (now - last)
            held = written + probed - expired  # counting them would read every record (SecantusDB)
            print(
                f"{now - started:6.0f}{written:10d}{held:10d}{rate:11.0f}{pct(probes, 0.5):11.1f}{max(probes):11.1f}",
                flush=True,
            )
            probes.clear()
            last, last_written = now, written
    done.set()
    await asyncio.gather(*tasks)
    print(f"expired (deleted by expiry): {expired}")
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=900_000)
    parser.add_argument("--keep", type=float, default=7 * 24 * 3600.0)
    parser.add_argument("--rate", type=float, default=0.0, help="records/s to write (default: as fast as they go)")
    parser.add_argument("--ttl-index", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stratus-bench-store-") as tmp, embedded_mongo(Path(tmp)) as url:
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
