"""Personal data is readable by its owner only: 0700 directories, 0600 files, whatever the umask.

Checked as another local user would try: every path mobitui wrote (the
journal, its WAL and SHM from the very first open, exports, saved exchanges,
the recent numbers) is opened as ``nobody`` via setpriv, and must be refused.
The test tree lives in a world-traversable directory, so that only mobitui's
own modes stand in the way.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobitui.core.config import EXAMPLE, parse
from mobitui.core.journal import Journal
from mobitui.simulator.demo import DEMO_API_KEY, demo_toml

ROOT = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def open_tree(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory every user may enter, with the umask at 000 for the test."""
    base = Path(tempfile.mkdtemp(prefix="mobitui-private-", dir="/tmp"))
    os.chmod(base, 0o755)
    old = os.umask(0)
    monkeypatch.setenv("MOBITUI_DATA_DIR", str(base / "data"))
    try:
        yield base
    finally:
        os.umask(old)
        shutil.rmtree(base, ignore_errors=True)


def another_user_can_read(path: Path) -> bool:
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        return bool(os.stat(path).st_mode & 0o044)  # without root: the mode bits say it
    cmd = ["ls", str(path)] if path.is_dir() else ["head", "-c", "1", str(path)]
    return subprocess.run(NOBODY + cmd, capture_output=True).returncode == 0


def check_private(paths: list[Path]) -> None:
    assert paths
    for p in paths:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), f"{p}: {oct(mode)}"
        assert not another_user_can_read(p), p


def test_the_journal_and_its_wal_and_shm_are_private_from_the_first_open(open_tree):
    db = open_tree / "data" / "journal.sqlite3"
    j = Journal(db)
    cfg = parse(EXAMPLE)
    j.begin(cfg.campaigns[0], "254700000101", "unsubscribe", "mt-stop")
    files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
    assert all(f.exists() for f in files)
    check_private([db.parent, *files])
    j.close()


def test_every_path_the_cli_writes_is_private(open_tree, simulator):
    cfg = open_tree / "m.toml"
    cfg.write_text(demo_toml(simulator.base_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOBITUI_")}
    env.update(
        MOBITUI_DATA_DIR=str(open_tree / "data"),
        MOBITUI_API_KEY=DEMO_API_KEY,
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
    )
    exports = open_tree / "exports"
    exports.mkdir(mode=0o755)
    for args in (
        ("status", "--campaign", "Kenya Tips", "254700000101", "--export", str(exports / "a.csv")),
        ("unsubscribe", "--campaign", "Kenya Jokes SMS", "--yes", "254700000102", "--export", str(exports / "b.jsonl")),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "mobitui", args[0], "--config", str(cfg), *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
    written = [*list((open_tree / "data").rglob("*")), exports / "a.csv", exports / "b.jsonl"]
    check_private([open_tree / "data", *written])


async def test_saved_exchanges_and_recent_numbers_are_private(open_tree, sim_config, simulator):
    from test_console import ACTIVE, lookup, make_app, with_ui

    from mobitui.tui.screens.exchange import ExchangeDetail

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.pause(0.3)
        await pilot.press("f6", "end", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExchangeDetail)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    saved = list((open_tree / "data" / "exchanges").glob("*.txt"))
    recent = list(open_tree.rglob("console.json"))  # the state dir: under $MOBITUI_DATA_DIR here
    assert saved and recent
    check_private([open_tree / "data", open_tree / "data" / "exchanges", *saved, *recent, *{p.parent for p in recent}])
