"""Soak: the console on live refresh for a long run, compressed in time; memory and fds must stay flat.

    python tools/soak.py [--seconds 120] [--interval 0.05]

Runs the console headless against the in-process simulator with the status
panel re-polling every ``--interval`` seconds (the default 10 s interval,
compressed ~200 times), with the request log shown and the journal written.
Samples RSS and open file descriptors after a warm-up and at the end, and
prints the growth. Exit 1 if RSS grew by more than 10 MB or fds by more than 4.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile

import psutil


async def soak(seconds: float, interval: float) -> dict[str, float]:
    from mobitui.core import secrets
    from mobitui.core.config import Config
    from mobitui.runtime import Runtime
    from mobitui.simulator.demo import DEMO_API_KEY
    from mobitui.simulator.server import SimulatorServer
    from mobitui.tui.app import MobituiApp

    me = psutil.Process()
    with SimulatorServer.demo() as server:
        data = server.config.model_dump(mode="python")
        data["ui"]["refresh_interval"] = interval
        data["ui"]["log_limit"] = 200
        runtime = Runtime(
            Config.model_validate(data), None, key_lookup=secrets.KeyLookup(DEMO_API_KEY, "environment", "soak")
        )
        app = MobituiApp(runtime)
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.press(*"254700000101", "enter")
            warm = max(2.0, seconds * 0.2)
            await pilot.pause(warm)
            rss0, fds0, n0 = me.memory_info().rss, me.num_fds(), len(server.sim.requests)
            await pilot.pause(seconds - warm)
            rss1, fds1, n1 = me.memory_info().rss, me.num_fds(), len(server.sim.requests)
    return {
        "checks": n1 - n0,
        "rss_start_mb": rss0 / 2**20,
        "rss_growth_mb": (rss1 - rss0) / 2**20,
        "fds_start": fds0,
        "fds_growth": fds1 - fds0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--interval", type=float, default=0.05)
    args = ap.parse_args(argv)
    os.environ.setdefault("MOBITUI_DATA_DIR", tempfile.mkdtemp(prefix="mobitui-soak-"))
    r = asyncio.run(soak(args.seconds, args.interval))
    print(
        f"soak {args.seconds:g} s at one check every {args.interval:g} s: {int(r['checks'])} checks measured; "
        f"RSS {r['rss_start_mb']:.0f} MB, growth {r['rss_growth_mb']:+.1f} MB; "
        f"fds {int(r['fds_start'])}, growth {int(r['fds_growth']):+d}"
    )
    return 0 if r["rss_growth_mb"] <= 10 and r["fds_growth"] <= 4 and r["checks"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
