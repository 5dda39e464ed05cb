"""Simulator throughput: Subscription API status calls per second.

The simulator runs as ``python -m mobitui.simulator --demo --port 0`` in its
own process, so client and server do not share a GIL. The client is httpx on
the client's transport (mobitui.core.transport), with N concurrent workers
sharing one connection pool, for a bounded number of requests after a warm-up.

    python bench/simulator_rps.py                          # 5,000 requests, 50 concurrent
    python bench/simulator_rps.py --requests 20000 --concurrency 100
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mobitui.core.client import ssl_context  # noqa: E402
from mobitui.core.transport import HttpcoreTransport  # noqa: E402
from mobitui.simulator.demo import DEMO_ACCOUNT_ID, DEMO_TIPS_ID  # noqa: E402

WARM_UP = 500


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mobitui.simulator", "--demo", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()  # printed once the socket listens
    match = re.search(r"listening on (http://\S+)", banner)
    if not match:
        proc.kill()
        _, err = proc.communicate()
        raise SystemExit(f"the simulator did not start: {banner}{err}")
    return proc, match.group(1)


def stop_simulator(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def status_body(i: int) -> dict[str, str]:
    msisdn = f"2547{i % 10**8:08d}"
    signature = hashlib.md5(f"{DEMO_ACCOUNT_ID}{DEMO_TIPS_ID}{msisdn}".encode()).hexdigest()
    return {"msisdn": msisdn, "signature": signature}


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used by a process so far, if psutil is installed."""
    try:
        import psutil
    except ImportError:
        return None
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def hammer(
    base_url: str, total: int, concurrency: int, on_start: Callable[[], None] = lambda: None
) -> tuple[float, list[float], int]:
    """Wall time, per-request latencies and the number of 200s for ``total`` requests."""
    transport = HttpcoreTransport(ssl_context(None), max_connections=concurrency)
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
        url = f"/subscriptions/v1/{DEMO_TIPS_ID}/status"
        next_index = 0
        latencies: list[float] = []
        ok = 0

        async def worker(limit: int, record: bool) -> None:
            nonlocal next_index, ok
            while next_index < limit:
                i = next_index
                next_index += 1
                t0 = time.perf_counter()
                response = await client.post(url, json=status_body(i))
                if record:
                    latencies.append(time.perf_counter() - t0)
                    ok += response.status_code == 200

        await asyncio.gather(*(worker(WARM_UP, record=False) for _ in range(concurrency)))
        next_index = 0
        on_start()
        start = time.perf_counter()
        await asyncio.gather(*(worker(total, record=True) for _ in range(concurrency)))
        return time.perf_counter() - start, latencies, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="measured requests (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients (default 50)")
    args = parser.parse_args()

    proc, base_url = start_simulator()
    server_cpu: list[float | None] = []
    try:
        wall, latencies, ok = asyncio.run(
            hammer(base_url, args.requests, args.concurrency, lambda: server_cpu.append(cpu_seconds(proc.pid)))
        )
        server_cpu.append(cpu_seconds(proc.pid))
    finally:
        stop_simulator(proc)
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(
        f"{args.requests} status requests, {args.concurrency} concurrent: {wall:.2f} s, "
        f"{args.requests / wall:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"{ok}/{args.requests} answered 200"
    )
    before, after = server_cpu
    if before is not None and after is not None:
        print(f"simulator CPU: {(after - before) / args.requests * 1e6:.0f} µs per request")
    return 0 if ok == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
