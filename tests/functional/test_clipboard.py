"""Copy inside tmux reaches tmux's buffer; a copy that did not happen is never claimed."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from mobitui.tui.clipboard import copy

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by .ci/run")


@pytest.fixture
def tmux_server(tmp_path):  # type: ignore[no-untyped-def]
    sock = str(tmp_path / f"tmux-{uuid.uuid4().hex[:8]}")
    subprocess.run(["tmux", "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24"], check=True)
    try:
        yield sock
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)


def test_inside_tmux_the_text_lands_in_tmuxs_buffer(tmux_server):
    sent: list[str] = []
    env = {**os.environ, "TMUX": f"{tmux_server},1,0"}
    message, warn = copy("254700000101\n254700000102", sent.append, "2 numbers", environ=env)
    assert not warn and "copied into tmux's paste buffer" in message
    shown = subprocess.run(["tmux", "-S", tmux_server, "show-buffer"], capture_output=True, text=True)
    assert shown.stdout == "254700000101\n254700000102"
    assert sent == ["254700000101\n254700000102"]  # OSC 52 is sent too, for a tmux that passes it on


def test_a_tmux_that_refuses_is_reported_not_claimed(tmp_path):
    env = {**os.environ, "TMUX": f"{tmp_path / 'no-such-socket'},1,0"}
    message, warn = copy("x", lambda _: None, "Exchange #3", environ=env)
    assert warn
    assert message.startswith("Exchange #3: NOT in tmux's buffer")
    assert "copied" not in message


def test_outside_tmux_osc52_is_said_to_be_sent_not_copied():
    sent: list[str] = []
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    message, warn = copy("abc", sent.append, "Exchange #1", environ=env)
    assert sent == ["abc"] and not warn
    assert "sent to your terminal's clipboard with OSC 52" in message and "copied" not in message
