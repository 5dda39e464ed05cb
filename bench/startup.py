"""Start-up time of the console: process start to the first drawn screen.

    python bench/startup.py [--runs 10]

Runs `python -m mobitui --demo` in a pseudo-terminal with
MOBITUI_STARTUP_REPORT=FILE: the console writes the wall-clock time of its
first drawn frame there and exits. Prints the median and worst time from
process launch to that frame, and the time of `mobitui --help` (what a
headless command pays before it does anything).
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str], env: dict[str, str], report: str | None = None) -> float:
    master, slave = pty.openpty()
    launched = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    while True:  # drain the pty so the app never blocks on output
        try:
            if not os.read(master, 65536):
                break
        except OSError:
            break
    proc.wait()
    elapsed = time.perf_counter() - t0
    os.close(master)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} exited {proc.returncode}")
    if report is not None:
        with open(report) as fh:
            return float(fh.read()) - launched
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    report = os.path.join(tempfile.mkdtemp(), "first-frame")
    env = dict(os.environ, MOBITUI_STARTUP_REPORT=report, MOBITUI_DATA_DIR=tempfile.mkdtemp(), TERM="xterm-256color")
    console = [timed([sys.executable, "-m", "mobitui", "--demo"], env, report) for _ in range(args.runs)]
    help_ = [timed([sys.executable, "-m", "mobitui", "--help"], env) for _ in range(args.runs)]
    print(
        f"launch to first frame (--demo): median {statistics.median(console) * 1000:.0f} ms, worst {max(console) * 1000:.0f} ms ({args.runs} runs)"
    )
    print(
        f"mobitui --help (CLI start):    median {statistics.median(help_) * 1000:.0f} ms, worst {max(help_) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
