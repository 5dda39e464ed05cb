"""Drive the real `mobitui --demo` in tmux, as an operator would."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]


class Tmux:
    def __init__(self, tmp: Path):
        self.socket = f"mobitui-test-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True).stdout

    def start(self, command: str, width: int = 110, height: int = 32) -> None:
        self.run("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear within {timeout} s; screen:\n{screen}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.kill()


def test_demo_lookup_unsubscribe_and_quit(tmux, tmp_path):
    done = tmp_path / "exit-code"
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in {
            "MOBITUI_DATA_DIR": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "TERM": os.environ.get("TERM", "xterm-256color")
            if os.environ.get("TERM") not in (None, "dumb")
            else "xterm-256color",
        }.items()
    )
    cmd = f"env -u COLUMNS -u LINES {env} {shlex.quote(sys.executable)} -m mobitui --demo; echo $? > {shlex.quote(str(done))}; sleep 5"
    tmux.start(f"sh -c {shlex.quote(cmd)}")
    tmux.wait_for("DEMO")
    tmux.wait_for("MSISDN")
    tmux.keys("0700-000-101")
    tmux.wait_for("254700000101")
    tmux.keys("Enter")
    screen = tmux.wait_for("ACTIVE")
    assert "subscribed and being billed" in screen
    tmux.keys("C-o")
    screen = tmux.wait_for("Unsubscribe 254700000101?")
    assert "Cancel" in screen and "PASSWORD" not in screen  # Kenya Tips: the signed API, no key in sight
    tmux.keys("y")
    screen = tmux.wait_for("UNSUB")
    assert "unsubscribe of 254700000101 in" in screen and "accepted at" in screen
    tmux.keys("C-q")
    deadline = time.monotonic() + 10
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done.read_text().strip() == "0"


def test_demo_bulk_paste_of_500_numbers_and_check(tmux, tmp_path):
    numbers = [f"2547{i:08d}" for i in range(20_000_000, 20_000_497)]
    numbers[3] = "+254 700 000 101"  # a sample, in another format
    numbers += ["not a number", numbers[0], "0700-000-106"]  # junk, a duplicate, a national one
    paste = tmp_path / "paste.txt"
    paste.write_text("\n".join(numbers) + "\n")
    env = (
        f"MOBITUI_DATA_DIR={shlex.quote(str(tmp_path / 'data'))} XDG_STATE_HOME={shlex.quote(str(tmp_path / 'state'))}"
    )
    cmd = f"env -u COLUMNS -u LINES {env} {shlex.quote(sys.executable)} -m mobitui --demo; sleep 5"
    tmux.start(f"sh -c {shlex.quote(cmd)}", width=130, height=36)
    tmux.wait_for("MSISDN")
    tmux.keys("C-n")
    tmux.wait_for("Paste")
    tmux.run("load-buffer", str(paste))
    tmux.run("paste-buffer", "-p", "-t", "t")
    screen = tmux.wait_for("500 entries")
    assert "498 to send" in screen and "1 invalid" in screen and "1 duplicates" in screen, screen
    tmux.keys("C-r")
    screen = tmux.wait_for("status: 498/498", timeout=60)
    assert "active" in screen
    tmux.keys("C-q")


BINARY_PASTE = b"254700000101\n25470000\xff0102\n\xc3\x28\x80\x81 binary \xfe\n254700000102\n"


def _console(tmux, tmp_path, done: Path, extra: dict[str, str] | None = None, wait: bool = True) -> None:
    """The demo console in tmux (130x36); ``wait``: until its first frame is drawn."""
    env = {
        "MOBITUI_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        **(extra or {}),
    }
    assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    cmd = (
        f"env -u COLUMNS -u LINES {assigns} {shlex.quote(sys.executable)} -m mobitui --demo; "
        f"echo $? > {shlex.quote(str(done))}; sleep 30"
    )
    tmux.start(f"sh -c {shlex.quote(cmd)}", width=130, height=36)
    if wait:
        tmux.wait_for("MSISDN")


def _exit_code(done: Path) -> str:
    deadline = time.monotonic() + 15
    while not (done.exists() and done.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return done.read_text().strip()


def _paste_binary_into_bulk(tmux, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Open the bulk screen and paste BINARY_PASTE into it as a bracketed paste."""
    tmux.keys("C-n")
    tmux.wait_for("Paste")
    paste = tmp_path / "paste.bin"
    paste.write_bytes(BINARY_PASTE)
    tmux.run("load-buffer", str(paste))
    tmux.run("paste-buffer", "-p", "-t", "t")


def test_bulk_paste_of_bytes_that_are_not_utf8_is_shown_and_rejected(tmux, tmp_path):
    """A binary paste reaches the bulk screen with replacement characters; its lines
    are rejected, the good lines stay usable, and the console lives on."""
    done = tmp_path / "exit-code"
    _console(tmux, tmp_path, done)
    _paste_binary_into_bulk(tmux, tmp_path)
    screen = tmux.wait_for("4 entries")
    assert "2 to send" in screen and "2 invalid" in screen, screen
    assert "25470000\ufffd0102" in screen and "binary" in screen, screen
    tmux.wait_for("bytes that are not text")  # the table's rows are drawn after the summary
    tmux.keys("C-r")
    tmux.wait_for("status: 2/2", timeout=30)
    tmux.keys("C-q")
    assert _exit_code(done) == "0"


def test_console_that_dies_unexpectedly_never_exits_0(tmux, tmp_path):
    """With Textual's own driver the same paste kills the input thread: the console
    must end with a non-zero exit code, never 0."""
    done = tmp_path / "exit-code"
    tests = Path(__file__).resolve().parents[1]  # tests/, for support
    _console(
        tmux,
        tmp_path,
        done,
        {
            "TEXTUAL_DRIVER": "support.drivers:StockLinuxDriver",
            "PYTHONPATH": os.pathsep.join([str(tests), str(tests.parent)]),
        },
    )
    _paste_binary_into_bulk(tmux, tmp_path)
    assert _exit_code(done) not in ("", "0")


def test_a_number_typed_while_the_console_starts_is_looked_up(tmux, tmp_path):
    _console(tmux, tmp_path, tmp_path / "exit-code", wait=False)
    tmux.keys("0700-000-101", "Enter")  # before the first frame: the terminal holds the keys
    screen = tmux.wait_for("ACTIVE", timeout=30)
    assert "Kenya Jokes SMS" in screen  # the campaign list was not filtered by the number
    tmux.keys("C-q")
