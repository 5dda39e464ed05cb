"""Every way out is clean: signals give the terminal back, Ctrl-D and a closed
pipe end in one line, and a bad --export is found before anything is sent."""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mobitui import cli
from mobitui.simulator.demo import DEMO_API_KEY, demo_toml

ROOT = Path(__file__).resolve().parents[2]


def cli_env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("MOBITUI_")}
    e.update(
        MOBITUI_DATA_DIR=str(tmp_path / "data"),
        MOBITUI_API_KEY=DEMO_API_KEY,
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
    )
    return e


@pytest.fixture
def config_file(tmp_path: Path, simulator) -> Path:  # type: ignore[no-untyped-def]
    p = tmp_path / "m.toml"
    p.write_text(demo_toml(simulator.base_url))
    return p


def test_an_export_destination_that_cannot_be_written_is_found_before_anything_is_sent(
    tmp_path, config_file, simulator
):
    env = cli_env(tmp_path)
    (tmp_path / "a-dir.csv").mkdir()
    for target, why in (
        (tmp_path / "missing" / "dir" / "x.csv", "does not exist"),
        (tmp_path / "a-dir.csv", "is a directory"),
    ):
        for args in (("status", "--campaign", "Kenya Tips"), ("unsubscribe", "--campaign", "Kenya Jokes SMS", "--yes")):
            r = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "mobitui",
                    args[0],
                    "--config",
                    str(config_file),
                    *args[1:],
                    "254700000101",
                    "--export",
                    str(target),
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert r.returncode == 2, r.stderr
            assert why in r.stderr and "nothing was sent" in r.stderr and "Traceback" not in r.stderr
    assert simulator.sim.requests == []


def test_ctrl_d_at_the_confirmation_prompt_sends_nothing(config_file, simulator, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def end_of_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", end_of_input)
    monkeypatch.setattr(sys, "stdin", Terminal(""))
    code = cli.main(["unsubscribe", "--config", str(config_file), "--campaign", "Kenya Tips", "254700000101"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert "Ctrl-D" in err and "nothing was sent" in err and "Traceback" not in err
    assert simulator.sim.requests == []


def test_a_closed_pipe_ends_in_one_line(tmp_path, config_file, simulator):
    env = cli_env(tmp_path)
    for _ in range(3):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mobitui",
                "status",
                "--config",
                str(config_file),
                "--campaign",
                "Kenya Tips",
                *[f"2547000001{i:02d}" for i in range(1, 13)],
            ],
            capture_output=True,
            env=env,
            timeout=60,
            check=True,
        )
    for args in (("jobs",), ("history", "254700000101"), ("status", "--campaign", "Kenya Tips", "254700000101")):
        shell = (
            f"{shlex.quote(sys.executable)} -m mobitui {args[0]} --config {shlex.quote(str(config_file))} "
            f'{" ".join(map(shlex.quote, args[1:]))} | true; echo "exit ${{PIPESTATUS[0]}}"'
        )
        r = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=env, timeout=60)
        assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
        # `true` has gone before mobitui writes: every write meets a closed pipe
        assert r.stdout.strip() == f"exit {cli.EXIT_PIPE}", r.stdout + r.stderr
        assert r.stderr.count("\n") == 1 and "broken pipe" in r.stderr


# -- the console under signals, in a real terminal (tmux) --------------------------------

tmux_only = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@tmux_only
@pytest.mark.parametrize("sig", ["TERM", "HUP"])
def test_a_signal_gives_the_terminal_back_and_says_so(tmp_path, sig):
    from test_tmux import Tmux

    tmux = Tmux(tmp_path)
    done = tmp_path / "exit-code"
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in {
            "MOBITUI_DATA_DIR": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "TERM": "xterm-256color",
        }.items()
    )
    cmd = (
        f"env -u COLUMNS -u LINES {env} {shlex.quote(sys.executable)} -m mobitui --demo; "
        f"echo $? > {shlex.quote(str(done))}; sleep 30"
    )
    try:
        tmux.start(f"sh -c {shlex.quote(cmd)}")
        tmux.wait_for("MSISDN")
        flags = "#{alternate_on} #{mouse_any_flag}#{mouse_button_flag}#{mouse_all_flag}#{mouse_standard_flag}"
        assert tmux.run("display", "-p", "-t", "t", flags).split()[0] == "1"
        shell = tmux.run("display", "-p", "-t", "t", "#{pane_pid}").strip()
        pid = subprocess.run(["ps", "--ppid", shell, "-o", "pid="], capture_output=True, text=True).stdout.split()
        assert len(pid) == 1
        os.kill(int(pid[0]), getattr(__import__("signal"), f"SIG{sig}"))
        deadline = time.monotonic() + 15
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == str(128 + getattr(__import__("signal"), f"SIG{sig}"))
        assert tmux.run("display", "-p", "-t", "t", flags).split() == ["0", "0000"]
        assert f"stopped by SIG{sig}" in tmux.screen()
    finally:
        tmux.kill()
