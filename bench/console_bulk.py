"""The bulk run inside the console: wall time against the floor, and how responsive the UI stays.

    python bench/console_bulk.py [--numbers 4000] [--latency-ms 50] [--concurrency 50]

The simulator runs in its own process (as the real API would be elsewhere).
The console runs headless (Textual's test driver, real HTTP), the numbers are
pasted into the bulk screen, ctrl+r runs the check (in the job process the
console keeps ready, as it does for an operator), and meanwhile a probe on
the event loop asks every 10 ms to be woken and records how late it was: the
event-loop lag an operator's key presses would see. Prints wall/floor, lag
p50/p99/max, and the peak RSS of the console and of the job's process.
The CPU figure is the console's own (the job's process is not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bulk import start_simulator  # noqa: E402

PROBE_EVERY = 0.01  # seconds


async def run(base_url: str, numbers: int, concurrency: int) -> dict[str, float]:
    from textual.widgets import TextArea

    from mobitui.core import secrets
    from mobitui.core.config import Config
    from mobitui.runtime import Runtime
    from mobitui.simulator.demo import DEMO_API_KEY, demo_config
    from mobitui.tui.app import MobituiApp
    from mobitui.tui.screens.bulk import BulkScreen

    data = demo_config(base_url).model_dump(mode="python")
    data["bulk"]["concurrency"] = concurrency
    data["ui"]["refresh_interval"] = 0
    runtime = Runtime(
        Config.model_validate(data), None, key_lookup=secrets.KeyLookup(DEMO_API_KEY, "environment", "bench")
    )
    app = MobituiApp(runtime)
    text = "\n".join(f"2547{i:08d}" for i in range(10_000_000, 10_000_000 + numbers))
    lags: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BulkScreen)
        screen.query_one("#paste", TextArea).load_text(text)
        while len(screen.rows) != numbers:
            await pilot.pause(0.1)
        running = True

        async def probe() -> None:
            while running:
                t = time.perf_counter()
                await asyncio.sleep(PROBE_EVERY)
                lags.append(time.perf_counter() - t - PROBE_EVERY)

        prober = asyncio.create_task(probe())
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        await pilot.press("ctrl+r")
        await asyncio.sleep(0.05)
        while screen.running is not None:  # plain sleeps: the pilot's pause() costs CPU itself
            await asyncio.sleep(0.01)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        running = False
        await prober
        done = sum(1 for r in screen.rows if r.result is not None and r.result.ok)
        await asyncio.sleep(0.5)  # the job's process exits and is reaped: its peak RSS is counted
        job_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lags.sort()
    return {
        "wall": wall,
        "cpu": cpu,
        "done": done,
        "lag_p50_ms": statistics.median(lags) * 1000,
        "lag_p99_ms": lags[int(len(lags) * 0.99) - 1] * 1000,
        "lag_max_ms": lags[-1] * 1000,
        "job_rss": job_rss,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=4000)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()
    os.environ["MOBITUI_DATA_DIR"] = tempfile.mkdtemp(prefix="mobitui-bench-")
    proc, url = start_simulator(args.latency_ms)
    try:
        r = asyncio.run(run(url, args.numbers, args.concurrency))
    finally:
        proc.terminate()
        proc.wait(10)
    floor = args.numbers * args.latency_ms / 1000 / args.concurrency
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"console: {args.numbers} status @ {args.latency_ms:g} ms, C={args.concurrency}: "
        f"wall {r['wall']:.2f} s (CPU {r['cpu']:.2f} s), floor {floor:.2f} s, wall/floor {r['wall'] / floor:.2f}, "
        f"{int(r['done'])}/{args.numbers} ok; event-loop lag p50 {r['lag_p50_ms']:.1f} ms, "
        f"p99 {r['lag_p99_ms']:.1f} ms, max {r['lag_max_ms']:.1f} ms; peak RSS {rss:.0f} MB "
        f"(the job's process {r['job_rss']:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
