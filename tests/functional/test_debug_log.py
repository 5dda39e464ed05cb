"""The debug log: written only when asked for, private, bounded, redacted, and
where every exception swallowed on purpose leaves a line.

The key tests drive the CLI (a subprocess, as an operator runs it), the console
and a bulk job's child process against a server that echoes the key in five
encodings (tests/support/echo.py), then decode the log every way a reader could.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mobitui.core import logs
from mobitui.core.recorder import Recorder
from mobitui.simulator.demo import demo_toml
from support.echo import EchoServer, decodings

ROOT = Path(__file__).resolve().parent.parent
KEY = "Dbg+Log/Key7e6d5c=Fk&q"  # distinctive, obviously fake
NUMBERS = [f"2547000001{n:02d}" for n in range(1, 7)]


@pytest.fixture(autouse=True)
def _log_off_after():  # type: ignore[no-untyped-def]
    yield
    logs.disable()


@pytest.fixture
def echo():  # type: ignore[no-untyped-def]
    server = EchoServer(KEY).start()
    yield server
    server.stop()


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MOBITUI_", "PYTHON_KEYRING"))}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
        **extra,
    )
    return e


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mobitui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )


def log_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("debug.log*") if not p.name.endswith(".lock"))


def assert_no_key(text: str, where: str) -> None:
    for decoded in decodings(text):
        assert KEY not in decoded, f"the key is readable in {where}"


# -- on only when asked ------------------------------------------------------------
def test_nothing_is_written_or_said_without_the_switch(tmp_path):
    env = cli_env(tmp_path)
    r = run(env, "--demo", "status", "--campaign", "Kenya Tips", NUMBERS[0])
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert log_files(tmp_path) == []


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_before_or_after_the_command_writes_the_log_and_says_where_once(tmp_path, where):
    env = cli_env(tmp_path)
    args = ["status", "--demo", "--campaign", "Kenya Tips", NUMBERS[0]]
    args = ["--debug", *args] if where == "before" else [*args, "--debug"]
    r = run(env, *args)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "state" / "mobitui" / "debug.log"
    assert r.stderr.splitlines() == [f"mobitui: debug log: {path}"]
    assert log_files(tmp_path) == [path]
    text = path.read_text()
    assert re.search(rf"status {NUMBERS[0]} via subscription-api \(job \d+\): ok, HTTP 200, \d+ ms", text), text
    assert re.search(r"exchange 1: POST http://127\.0\.0\.1:\d+/subscriptions/v1/\w+/status -> 200", text), text


def test_the_config_switch_writes_the_log_and_is_validated(tmp_path, simulator):
    cfg = tmp_path / "m.toml"
    toml = demo_toml(simulator.base_url)
    cfg.write_text(toml + "\n[logging]\ndebug = true\n")
    env = cli_env(tmp_path)
    r = run(env, "status", "--config", str(cfg), "--campaign", "Kenya Tips", NUMBERS[0])
    assert r.returncode == 0, r.stderr
    path = tmp_path / "state" / "mobitui" / "debug.log"
    assert r.stderr.splitlines() == [f"mobitui: debug log: {path}"]
    assert f"status {NUMBERS[0]}" in path.read_text()

    cfg.write_text(toml + '\n[logging]\ndebug = "maybe"\n')
    r = run(env, "status", "--config", str(cfg), "--campaign", "Kenya Tips", NUMBERS[0])
    assert r.returncode == 2 and "key logging.debug" in r.stderr, r.stderr
    cfg.write_text(toml + '\n[logging]\nlevel = "debug"\n')
    r = run(env, "status", "--config", str(cfg), "--campaign", "Kenya Tips", NUMBERS[0])
    assert r.returncode == 2 and "logging.level: unknown key" in r.stderr, r.stderr


def test_a_log_that_cannot_be_written_is_said_and_the_command_still_runs(tmp_path):
    state = tmp_path / "state"
    state.write_text("a file where the state directory should be")
    r = run(cli_env(tmp_path), "--debug", "--demo", "status", "--campaign", "Kenya Tips", NUMBERS[0])
    assert r.returncode == 0, r.stderr
    assert "debug log: cannot write" in r.stderr and "carrying on without it" in r.stderr
    assert "Traceback" not in r.stderr and NUMBERS[0] in r.stdout


def test_a_warning_without_the_switch_reaches_no_terminal(tmp_path):
    # Python's last-resort handler writes WARNING and up to stderr when a logger has no handler.
    code = "import logging, mobitui; logging.getLogger('mobitui.x').warning('should not be seen')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(tmp_path))
    assert r.returncode == 0 and r.stderr == ""


# -- private and bounded --------------------------------------------------------------
def test_the_log_its_lock_and_rotated_files_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        path = logs.enable(tmp_path / "new" / "dir" / "debug.log")
        handler = logging.getLogger("mobitui").handlers[-1]
        assert isinstance(handler, logs.SharedRotatingFileHandler)
        handler.maxBytes = 1000
        for i in range(100):
            logging.getLogger("mobitui.test").debug("line %d %s", i, "x" * 60)
    finally:
        os.umask(old)
    files = sorted(path.parent.iterdir())
    assert {p.name for p in files} >= {"debug.log", "debug.log.1", "debug.log.lock"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    for d in (path.parent, path.parent.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_rotation_keeps_the_files_bounded_and_the_newest_lines(tmp_path):
    path = logs.enable(tmp_path / "debug.log")
    handler = logging.getLogger("mobitui").handlers[-1]
    handler.maxBytes, handler.backupCount = 2000, 2  # type: ignore[attr-defined]
    for i in range(1000):
        logging.getLogger("mobitui.test").debug("line %04d", i)
    files = log_files(tmp_path)
    assert [p.name for p in files] == ["debug.log", "debug.log.1", "debug.log.2"]
    assert all(p.stat().st_size <= 2000 for p in files)
    assert "line 0999" in path.read_text()
    assert "line 0000" not in "".join(p.read_text() for p in files)


WRITER = textwrap.dedent("""
    import logging, sys
    from pathlib import Path
    from mobitui.core import logs
    logs.enable(Path(sys.argv[1]))
    handler = logging.getLogger("mobitui").handlers[-1]
    handler.maxBytes, handler.backupCount = 6000, 40  # room for every line of both
    log = logging.getLogger("mobitui.test")
    sys.stdin.readline()  # both start together
    for i in range(600):
        log.debug("writer %s line %04d %s", sys.argv[2], i, "y" * 40)
""")


def test_two_processes_share_the_log_without_losing_order_or_the_bound(tmp_path):
    """The console and its bulk job's process write the same file: rotation by one must
    not leave the other writing into a rotated file (lines out of order, or lost in the
    middle of what is kept) nor let a file grow past the bound."""
    path = tmp_path / "debug.log"
    env = cli_env(tmp_path)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stdin=subprocess.PIPE, env=env)
        for name in ("A", "B")
    ]
    for p in procs:
        p.stdin.write(b"go\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
    for p in procs:
        p.stdin.close()  # type: ignore[union-attr]
        assert p.wait(60) == 0
    files = [tmp_path / "debug.log", *sorted(tmp_path.glob("debug.log.[0-9]*"), key=lambda p: int(p.suffix[1:]))]
    assert all(p.stat().st_size <= 6000 for p in files)
    lines = "".join(p.read_text() for p in reversed(files))  # oldest first
    for name in ("A", "B"):
        kept = [int(n) for n in re.findall(rf"writer {name} line (\d+)", lines)]
        assert kept == list(range(600)), f"{name}: lines lost or out of order"


# -- redacted -----------------------------------------------------------------------
def test_every_line_and_traceback_is_redacted(tmp_path):
    path = logs.enable(tmp_path / "debug.log")
    Recorder([KEY])  # a recorder given the key: from now on masked in the log as well
    log = logging.getLogger("mobitui.test")
    log.debug("url http://h/srs/api/sendsms?USER_NAME=a&PASSWORD=unregistered-secret&X=1")
    log.debug("url http://h/api/doi/acct/unregistered-doi-key/254700000101/x")
    log.debug("echo %s", '{"error": "PASSWORD=\\u0044bg+Log\\/Key7e6d5c=Fk&amp;q"}')
    try:
        raise RuntimeError(f"server said {KEY}")
    except RuntimeError:
        log.debug("swallowed", exc_info=True)
    log.debug("terminal \x1b]52;c;aGk=\x07 escape")
    text = path.read_text()
    assert_no_key(text, "the debug log")
    assert "unregistered-secret" not in text and "unregistered-doi-key" not in text
    assert "254700000101" in text  # numbers untouched
    assert "RuntimeError: server said ***" in text
    assert "\x1b" not in text and "\\x1b]52" in text


def test_the_cli_debug_log_against_a_server_echoing_the_key(tmp_path, echo):
    cfg = tmp_path / "m.toml"
    cfg.write_text(demo_toml(echo.base_url))
    env = cli_env(tmp_path, MOBITUI_API_KEY=KEY)
    c = str(cfg)
    for args in (
        ("status", "--config", c, "--campaign", "Kenya Tips", *NUMBERS),
        ("unsubscribe", "--config", c, "--campaign", "Kenya Tips", "--yes", *NUMBERS[:3]),
        ("unsubscribe", "--config", c, "--campaign", "Kenya Jokes SMS", "--yes", *NUMBERS),
        ("unsubscribe", "--config", c, "--campaign", "Kenya Web Opt-In", "--yes", *NUMBERS),
        ("resume", "--config", c, "1", "--yes"),
        ("history", "--config", c, NUMBERS[0]),
    ):
        r = run(env, "--debug", *args)
        assert "Traceback" not in r.stderr, r.stderr
        assert_no_key(r.stdout + r.stderr, "the CLI's output")
    assert echo.count >= 20
    files = log_files(tmp_path)
    assert files
    text = "".join(p.read_text() for p in files)
    assert "/srs/api/sendsms?" in text and "PASSWORD=***" in text  # the mt-stop URL, its key masked
    assert re.search(r"/api/doi/\w+/\*\*\*/", text), "the DOI URL's key segment is masked"
    assert "***" in text.replace("PASSWORD=***", "")  # the echoes were there, masked
    assert_no_key(text, "the CLI's debug log")


async def test_the_console_debug_log_against_a_server_echoing_the_key(tmp_path, echo):
    from test_console import ACTIVE, lookup, make_app, settle, with_ui

    from mobitui.simulator.demo import demo_config
    from mobitui.tui.screens.confirm import UnsubscribeConfirm
    from mobitui.tui.screens.help import HelpScreen

    path = logs.enable(tmp_path / "debug.log")
    app = make_app(with_ui(demo_config(echo.base_url), refresh_interval=0), key=KEY, campaign="Kenya Jokes SMS")
    async with app.run_test(size=(160, 50)) as pilot:
        for campaign in ("Kenya Jokes SMS", "Kenya Web Opt-In", "Kenya Tips"):
            await pilot.press("ctrl+f", *campaign, "enter", "escape")
            await lookup(app, pilot, ACTIVE)
            await pilot.press("ctrl+o")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
            if isinstance(app.screen, UnsubscribeConfirm):  # typed `again` after an accepted stop
                from textual.widgets import Input

                app.screen.query_one("#confirm-again", Input).value = ""
                await pilot.press(*"again", "enter")
            await settle(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert str(path) in app.export_screenshot().replace("\n", "") or app.screen.debug_log == str(path)
        assert app.screen.debug_log == str(path)
    assert echo.count >= 6
    text = path.read_text()
    assert "unsubscribe 254700000101 via mt-stop" in text and "unsubscribe 254700000101 via doi" in text
    assert "***" in text
    assert_no_key(text, "the console's debug log")


async def test_help_names_no_debug_log_when_there_is_none(sim_config):
    from test_console import make_app, with_ui

    from mobitui.tui.screens.help import HelpScreen

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.screen.debug_log is None
        assert "Debug log" not in app.export_screenshot()


async def test_a_job_process_writes_to_the_same_log_redacted(tmp_path, echo):
    import asyncio

    from mobitui.core.job_process import JobProcess
    from mobitui.core.jobs import entry_rows
    from mobitui.simulator.demo import demo_config

    path = logs.enable(tmp_path / "debug.log")
    config = demo_config(echo.base_url)
    campaign = config.campaign("Kenya Jokes SMS")
    proc = JobProcess.spawn()
    future = proc.start(
        config,
        KEY,
        str(tmp_path / "journal.sqlite3"),
        recorder=Recorder(),
        create={
            "campaign_id": campaign.campaign_id,
            "operation": "unsubscribe",
            "rows": list(entry_rows(NUMBERS)),
            "source": "test",
        },
    )
    while not future.done():
        await asyncio.sleep(0.02)
    for _ in range(250):  # the host's line about the child's exit comes after the job's end
        if f"job process {proc.pid} exited" in path.read_text():
            break
        await asyncio.sleep(0.02)
    text = path.read_text()
    assert f"job process {proc.pid} started" in text and f"job process {proc.pid} exited with code 0" in text
    child = [line for line in text.splitlines() if f" {proc.pid} " in line and "via mt-stop (job" in line]
    assert len(child) == len(NUMBERS), text  # one line per number, written by the child
    assert_no_key(text, "the job process's debug log")


# -- swallowed exceptions leave a line ---------------------------------------------------
def test_a_broken_listener_leaves_a_debug_line_with_its_traceback(tmp_path):
    path = logs.enable(tmp_path / "debug.log")
    recorder = Recorder()

    def broken(ex):  # type: ignore[no-untyped-def]
        raise ValueError("listener fell over")

    recorder.subscribe(broken)
    recorder.record(started=0, method="GET", url="http://h/x", status=200)  # does not raise
    text = path.read_text()
    assert "a listener of the request recorder failed" in text
    assert "ValueError: listener fell over" in text


async def test_a_broken_bulk_display_leaves_a_debug_line(tmp_path, sim_config, simulator):
    from mobitui.core import paste
    from mobitui.core.bulk import BulkJob
    from mobitui.core.journal import Journal
    from mobitui.core.results import Operation
    from mobitui.core.service import Service

    path = logs.enable(tmp_path / "debug.log")

    def broken(event):  # type: ignore[no-untyped-def]
        raise RuntimeError("display fell over")

    service = Service.open(sim_config, None, Journal(tmp_path / "j.sqlite3"))
    try:
        entries = paste.read("\n".join(NUMBERS[:2]), "KE").entries
        job = BulkJob.create(service, sim_config.campaigns[0], entries, Operation.STATUS, on_event=broken)
        progress = await job.run()
    finally:
        await service.aclose()
        service.journal.close()
    assert progress.done == 2  # the job carried on
    text = path.read_text()
    assert f"job {job.job_id}: an event listener failed" in text and "RuntimeError: display fell over" in text


def test_a_line_that_cannot_be_written_is_dropped_without_a_word_on_the_terminal(tmp_path, capsys):
    logs.enable(tmp_path / "debug.log")
    handler = logging.getLogger("mobitui").handlers[-1]
    assert isinstance(handler, logs.SharedRotatingFileHandler)
    handler.stream.close()
    handler.stream = open("/dev/full", "w")  # every write: ENOSPC, as on a full disk  # noqa: SIM115
    handler._reopen_if_rotated = lambda: None  # type: ignore[method-assign]
    logging.getLogger("mobitui.test").debug("cannot be written")
    assert handler.failures == 1
    assert capsys.readouterr().err == ""  # not the standard "--- Logging error ---" and a traceback
