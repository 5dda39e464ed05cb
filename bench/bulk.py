"""Bulk engine benchmark: wall time against the floor N·L/C, requests/s, peak RSS.

The simulator runs in its own process (so its CPU is not ours), each
measurement in a fresh process of this script (so the peak RSS is its own).

    python bench/bulk.py --rounds 3           # 4,000 status @ 50 ms, C=50: headless and the bare
                                              # aiohttp peer, interleaved, three rounds
    python bench/bulk.py --latency-ms 300 --concurrency 20 --rounds 3
    python bench/bulk.py --transport headless # the client as it ships, once
    python bench/bulk.py --numbers 100000 --latency-ms 0 --concurrency 100 --transport headless   # memory

The peer is a bare aiohttp client (``pip install -e '.[bench]'``) doing the same
signed POSTs at the same concurrency: what a lean HTTP client costs, to tell the
price of mobitui's stack (httpx types, httpcore, the engine, the journal) from the
server's latency. The console's figure comes from bench/console_bulk.py.

The headline wall time covers creating the job (writing every item to the
journal) and running it; the journal is a fresh SQLite file in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_simulator(latency_ms: float, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """The demo simulator in a process of its own; ``extra``: more of its options."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mobitui.simulator",
            "--demo",
            "--port",
            str(port),
            "--latency-ms",
            f"{latency_ms:g}",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the simulator exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the simulator did not start listening within 20 s")


def loop_name() -> str:
    from mobitui.core import loops

    return "asyncio" if os.environ.get("MOBITUI_BENCH_LOOP") == "asyncio" else loops.name()


def run_loop(main):  # type: ignore[no-untyped-def]
    """On the loop the CLI and the console's job thread use (uvloop where installed),
    or asyncio's own with MOBITUI_BENCH_LOOP=asyncio."""
    if os.environ.get("MOBITUI_BENCH_LOOP") == "asyncio":
        return asyncio.run(main)
    from mobitui.core import loops

    return loops.run(main)


def measure(base_url: str, numbers: int, concurrency: int, transport: str) -> dict[str, object]:
    """One run in this process; returns the figures."""
    import httpx

    from mobitui.core.bulk import BulkJob
    from mobitui.core.client import MobivateClient, Operation
    from mobitui.core.journal import Journal
    from mobitui.core.service import Service
    from mobitui.simulator.demo import DEMO_API_KEY, demo_config

    config = demo_config(base_url)
    campaign = config.campaigns[0]
    msisdns = (f"2547{i:08d}" for i in range(numbers))  # a generator: the job streams it in

    async def go() -> dict[str, object]:
        tmp = tempfile.mkdtemp(prefix="mobitui-bench-")
        journal = Journal(Path(tmp) / "journal.sqlite3")
        http = None  # "headless": the client's own (make_transport)
        if transport == "default":  # httpx's own transport, httpcore's pool included
            http = httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            )
        client = MobivateClient(config, DEMO_API_KEY, transport=http, concurrency=concurrency)
        service = Service(config, client, journal)
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        job = BulkJob.create(service, campaign, msisdns, Operation.STATUS, concurrency=concurrency)
        t1 = time.perf_counter()
        progress = await job.run()
        t2 = time.perf_counter()
        cpu = time.process_time() - cpu0
        await client.aclose()
        if http is not None:
            await http.aclose()
        journal.close()
        return {
            "create_s": t1 - t0,
            "run_s": t2 - t1,
            "wall_s": t2 - t0,
            "cpu_s": cpu,
            "done": progress.done,
            "ok": progress.outcomes.get("ok", 0),
        }

    figures = run_loop(go())
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["loop"] = loop_name()
    return figures


def measure_peer(base_url: str, numbers: int, concurrency: int) -> dict[str, object]:
    """The same signed POSTs from a bare aiohttp client: no httpx, no MobivateClient, no engine."""
    import hashlib

    import aiohttp

    from mobitui.simulator.demo import DEMO_ACCOUNT_ID, DEMO_TIPS_ID

    url = f"{base_url}/subscriptions/v1/{DEMO_TIPS_ID}/status"

    async def go() -> dict[str, object]:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), trust_env=False)
        gate = asyncio.Semaphore(concurrency)
        ok = 0

        async def one(i: int) -> None:
            nonlocal ok
            m = f"2547{i:08d}"
            sig = hashlib.md5(f"{DEMO_ACCOUNT_ID}{DEMO_TIPS_ID}{m}".encode()).hexdigest()
            async with (
                gate,
                session.post(
                    url, data=json.dumps({"msisdn": m, "signature": sig}), headers={"Content-Type": "application/json"}
                ) as r,
            ):
                body = await r.read()
                ok += r.status == 200 and b"state" in body

        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(numbers)))
        t1 = time.perf_counter()
        cpu = time.process_time() - cpu0
        await session.close()
        return {"create_s": 0.0, "run_s": t1 - t0, "wall_s": t1 - t0, "cpu_s": cpu, "done": numbers, "ok": ok}

    figures = run_loop(go())
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["loop"] = loop_name()
    return figures


def report(label: str, f: dict[str, object], numbers: int, latency_ms: float, concurrency: int) -> None:
    floor = numbers * latency_ms / 1000 / concurrency
    wall = float(f["wall_s"])  # type: ignore[arg-type]
    ratio = f"{wall / floor:.2f}" if floor else "n/a"
    print(
        f"{label:>9}: {numbers} status @ {latency_ms:g} ms, C={concurrency}: "
        f"wall {wall:.2f} s (create {float(f['create_s']):.2f} s + run {float(f['run_s']):.2f} s), "  # type: ignore[arg-type]
        f"floor {floor:.2f} s, wall/floor {ratio}, {numbers / wall:.0f} req/s, "
        f"CPU {float(f['cpu_s']) * 1e6 / numbers:.0f} µs/number, "  # type: ignore[arg-type]
        f"peak RSS {float(f['peak_rss_mb']):.0f} MB, {f['ok']}/{numbers} ok, {f['loop']} loop"  # type: ignore[arg-type]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--numbers", type=int, default=4000)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument(
        "--transport",
        choices=("headless", "peer", "default", "all"),
        default="all",
        help="headless: mobitui as it ships; peer: a bare aiohttp client doing the same POSTs; "
        "default: mobitui on httpx's own transport (httpcore's pool); all: headless and peer",
    )
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds (each a fresh process per client)")
    ap.add_argument("--one", metavar="BASE_URL", help=argparse.SUPPRESS)  # internal: one measurement
    args = ap.parse_args()

    if args.one:
        if args.transport == "peer":
            figures = measure_peer(args.one, args.numbers, args.concurrency)
        else:
            figures = measure(args.one, args.numbers, args.concurrency, args.transport)
        print(json.dumps(figures))
        return 0

    sim, base_url = start_simulator(args.latency_ms)
    try:
        transports = ("headless", "peer") if args.transport == "all" else (args.transport,)
        walls: dict[str, list[float]] = {t: [] for t in transports}
        for transport in [t for _ in range(args.rounds) for t in transports]:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    base_url,
                    "--numbers",
                    str(args.numbers),
                    "--latency-ms",
                    str(args.latency_ms),
                    "--concurrency",
                    str(args.concurrency),
                    "--transport",
                    transport,
                ],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return 1
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            report(transport, figures, args.numbers, args.latency_ms, args.concurrency)
            walls[transport].append(float(figures["wall_s"]))
        if "headless" in walls and "peer" in walls:
            ratios = [h / p for h, p in zip(walls["headless"], walls["peer"], strict=True)]
            print(f"headless / peer, round by round: {', '.join(f'{r:.2f}' for r in ratios)}")
    finally:
        sim.terminate()
        try:
            sim.wait(10)
        except subprocess.TimeoutExpired:
            sim.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
