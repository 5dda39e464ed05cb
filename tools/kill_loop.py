"""kill -9 the console and the headless CLI at random points of a bulk unsubscribe, resume, repeat; then count.

    python tools/kill_loop.py [--kills 20] [--numbers 60] [--campaign "Kenya Jokes SMS"] [--seed N] [--console]
                              [--slow-gateway MS]

With --console the first run is the console in tmux: the numbers are pasted
into the bulk screen, checked, and the active ones unsubscribed after typing
the count; it is killed with SIGKILL a random 0.1-0.9 s into that job.

A simulator process (50 ms latency, so requests are really in flight when the
kill lands) serves the demo account. The first run is `mobitui unsubscribe
--file`, every later one `mobitui resume JOB --yes`; each is killed with
SIGKILL after a random 0.1-0.9 s, and a last resume runs to the end. Then the
simulator's own count must show every number unsubscribed exactly once, and
the journal must agree with it. Exit 0 when all holds; prints the figures.

With --slow-gateway MS the simulator answers a stop MS later and applies it only
then (`--stop-latency-ms MS --apply-late`), and every kill lands while it holds
a stop it has not applied yet; the next resume starts at once. A number whose
stop may have left before the kill (it has a journal row) is resent by no
resume: it is done when status shows it unsub, and is left `unknown` otherwise;
such numbers are counted apart ("left unknown") and must not have been stopped
twice either.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bulk import start_simulator  # noqa: E402

from mobitui.simulator.demo import DEMO_API_KEY, demo_config, demo_toml  # noqa: E402


def wait_for_job(journal: Path, proc: subprocess.Popen[bytes]) -> int | None:
    """The first run's job id, once it is in the journal (so the kills land in the job)."""
    import sqlite3

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists():
            try:
                with sqlite3.connect(journal, timeout=1) as db:
                    row = db.execute("SELECT min(id) FROM jobs").fetchone()
                if row and row[0] is not None:
                    return int(row[0])
            except sqlite3.Error:
                pass
        time.sleep(0.02)
    return None


def unsubscribe_job(journal: Path) -> int | None:
    import sqlite3

    if not journal.exists():
        return None
    try:
        with sqlite3.connect(journal, timeout=1) as db:
            row = db.execute("SELECT max(id) FROM jobs WHERE operation='unsubscribe'").fetchone()
    except sqlite3.Error:
        return None
    return int(row[0]) if row and row[0] is not None else None


def job_numbers(journal: Path, job_id: int) -> list[str]:
    import sqlite3

    with sqlite3.connect(journal) as db:
        rows = db.execute(
            "SELECT msisdn FROM job_items WHERE job_id=? AND status != 'skipped' ORDER BY position", (job_id,)
        ).fetchall()
    return [r[0] for r in rows]


def console_run_killed(
    config: Path, campaign: str, numbers_file: Path, env: dict[str, str], journal: Path, delay: float
) -> int:
    """Paste in the console's bulk screen (tmux), check, unsubscribe the active ones; kill -9 mid-run."""
    import re
    import shlex

    sock = f"mobitui-kills-{os.getpid()}"
    tmux = ["tmux", "-L", sock]
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("MOBITUI_", "PYTHONPATH")))
    cmd = (
        f"env -u COLUMNS -u LINES {exports} {shlex.quote(sys.executable)} -m mobitui "
        f"--config {shlex.quote(str(config))} --campaign {shlex.quote(campaign)}; sleep 600"
    )
    subprocess.run([*tmux, "new-session", "-d", "-s", "k", "-x", "130", "-y", "36", cmd], check=True)

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", "k"], capture_output=True, text=True).stdout

    def wait_for(pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, screen())
            if m:
                return m
            time.sleep(0.1)
        raise SystemExit(f"console: {pattern!r} did not appear:\n{screen()}")

    try:
        wait_for("MSISDN")
        subprocess.run([*tmux, "send-keys", "-t", "k", "C-n"], check=True)
        wait_for("Paste")
        subprocess.run([*tmux, "load-buffer", str(numbers_file)], check=True)
        subprocess.run([*tmux, "paste-buffer", "-p", "-t", "k"], check=True)
        total = wait_for(r"[1-9]\d* entries: (\d+) to send").group(1)
        subprocess.run([*tmux, "send-keys", "-t", "k", "C-r"], check=True)
        wait_for(rf"status: {total}/{total}")
        subprocess.run([*tmux, "send-keys", "-t", "k", "C-o"], check=True)
        count = wait_for(r"Unsubscribe (\d+) numbers\?").group(1)
        subprocess.run([*tmux, "send-keys", "-t", "k", count, "Enter"], check=True)
        deadline = time.monotonic() + 30
        while unsubscribe_job(journal) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        pids = subprocess.run(["pgrep", "-f", f"mobitui --config {config}"], capture_output=True, text=True)
        for pid in pids.stdout.split():
            os.kill(int(pid), signal.SIGKILL)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    job = unsubscribe_job(journal)
    if job is None:
        raise SystemExit("the console never stored the unsubscribe job")
    return job


def stop_records(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/_simulator/requests", timeout=10) as r:
        return [rec for rec in json.load(r) if rec["operation"] in STOPS]


def held_stops(url: str) -> int:
    """Stops the simulator has received and not applied yet (a slow gateway holding them)."""
    return sum(1 for rec in stop_records(url) if not rec["acted"])


def wait_until_held(url: str, before: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    """Until this run's first stop reaches the gateway, which then holds it (False: the run
    ended first). ``before``: stops the gateway had received before the run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if len(stop_records(url)) > before:
            return True
        time.sleep(0.005)
    return False


STOPS = ("unsubscribe", "mt-stop", "doi-stop")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--numbers", type=int, default=60)
    ap.add_argument("--campaign", default="Kenya Jokes SMS")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument(
        "--console",
        action="store_true",
        help="the first run is the console in tmux (paste, check, unsubscribe the active ones)",
    )
    ap.add_argument(
        "--slow-gateway",
        type=float,
        default=0.0,
        metavar="MS",
        help="the gateway answers and applies each stop MS later; kill while it holds one",
    )
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="mobitui-kills-"))
    slow = ("--stop-latency-ms", f"{args.slow_gateway:g}", "--apply-late") if args.slow_gateway else ()
    proc, url = start_simulator(50, *slow)
    try:
        config = work / "config.toml"
        config.write_text(
            demo_toml(url).replace(
                "[[campaigns]]", "[network]\nconnect_timeout = 1.0\nread_timeout = 2.0\n\n[[campaigns]]", 1
            )
        )
        numbers = [f"2547{i:08d}" for i in range(30_000_000, 30_000_000 + args.numbers)]
        (work / "numbers.txt").write_text("\n".join(numbers) + "\n")
        env = {
            **os.environ,
            "MOBITUI_API_KEY": DEMO_API_KEY,
            "MOBITUI_DATA_DIR": str(work / "data"),
            "PYTHONPATH": str(ROOT),
        }
        base = [sys.executable, "-m", "mobitui"]
        first = [
            *base,
            "unsubscribe",
            "--config",
            str(config),
            "--campaign",
            args.campaign,
            "--yes",
            "--concurrency",
            "4",
            "--file",
            str(work / "numbers.txt"),
        ]
        job_id = None
        kills = 0
        journal = work / "data" / "journal.sqlite3"
        if args.console:
            job_id = console_run_killed(
                config, args.campaign, work / "numbers.txt", env, journal, rng.uniform(0.1, 0.9)
            )
            kills += 1
        for _ in range(args.kills - kills):
            cmd = first if job_id is None else [*base, "resume", str(job_id), "--config", str(config), "--yes"]
            before = len(stop_records(url))
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if job_id is None:
                job_id = wait_for_job(work / "data" / "journal.sqlite3", p)
            if args.slow_gateway:
                wait_until_held(url, before, p)  # kill while the gateway holds a stop of this run
            else:
                time.sleep(rng.uniform(0.1, 0.9))
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                kills += 1
            p.wait()
        if job_id is None:
            print("no job was ever stored (every kill came before it was written)", file=sys.stderr)
            return 1
        last = subprocess.run(
            [*base, "resume", str(job_id), "--config", str(config), "--yes", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        deadline = time.monotonic() + 60
        while held_stops(url) and time.monotonic() < deadline:  # every held stop has taken effect
            time.sleep(0.05)
        with urllib.request.urlopen(f"{url}/_simulator/stats", timeout=10) as r:
            stats = json.load(r)
        campaign_id = demo_config(url).campaign(args.campaign).campaign_id
        expected = set(job_numbers(journal, job_id))  # the console unsubscribes only the active ones
        counts = {n: stats["unsubscribes"].get(f"{campaign_id}:{n}", 0) for n in numbers}
        twice = {n: c for n, c in counts.items() if c > 1}
        stray = [n for n, c in counts.items() if c and n not in expected]
        listed = subprocess.run(
            [*base, "jobs", "--json", "--config", str(config)], env=env, capture_output=True, text=True, check=True
        )
        job = next(json.loads(line) for line in listed.stdout.splitlines() if json.loads(line)["id"] == job_id)
        done = job["counts"]["status"].get("done", 0)
        # Left unknown: a stop that may have left before a kill and that status does not show
        # applied; never resent (a second STOP SMS cannot be taken back), told to the operator.
        import sqlite3

        with sqlite3.connect(journal) as db:
            unknown = {
                m for (m,) in db.execute("SELECT msisdn FROM job_items WHERE job_id=? AND status='unknown'", (job_id,))
            }
        never = [n for n in expected if counts[n] == 0 and n not in unknown]
        print(
            f"{kills} kills survived{' (the first of the console)' if args.console else ''}"
            f"{f', each while a {args.slow_gateway:g} ms gateway held a stop' if args.slow_gateway else ''}; "
            f"{len(expected)} numbers to unsubscribe; unsubscribed exactly once: "
            f"{sum(1 for c in counts.values() if c == 1)}, twice or more: {len(twice)}, never: {len(never)}, "
            f"left unknown: {len(unknown)} ({sum(1 for n in unknown if counts[n] == 1)} of them stopped once); "
            f"job {job_id} {job['state']}, {done} done; last resume exit {last.returncode}"
        )
        ok = not twice and not never and not stray and done + len(unknown) == len(expected) and job["state"] == "done"
        if not ok:
            print(f"sent more than once: {twice}; never sent: {never}; stray: {stray}", file=sys.stderr)
        return 0 if ok else 1
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
