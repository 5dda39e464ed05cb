"""Copying text for the operator, over SSH and inside tmux, and saying truly what was done.

OSC 52 (``App.copy_to_clipboard``) asks the terminal to set its clipboard; nothing
comes back to say whether it did. Inside tmux it is worse: with tmux's default
``set-clipboard external`` tmux swallows an application's OSC 52, so the copy
silently goes nowhere. Inside tmux the text is therefore also handed to tmux
itself (``tmux load-buffer -w -``: a paste buffer, which tmux forwards to the
outer terminal's clipboard when it can), and the message says which of these
happened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

TMUX_TIMEOUT = 3.0  # seconds; tmux answers in milliseconds, a hung server must not hang the console


def to_tmux(text: str, environ: dict[str, str] | None = None) -> str | None:
    """Load ``text`` into tmux's paste buffer (and, with ``-w``, the clipboard).

    Returns None when not inside tmux (no ``$TMUX``) or tmux is not on the PATH;
    "ok" when the buffer was loaded; otherwise a short reason it was not. Never raises.
    """
    env = os.environ if environ is None else environ
    if not env.get("TMUX"):
        return None
    tmux = shutil.which("tmux", path=env.get("PATH"))
    if tmux is None:
        return "tmux is not on the PATH"
    data = text.encode("utf-8", "replace")
    last = ""
    for args in ([tmux, "load-buffer", "-w", "-"], [tmux, "load-buffer", "-"]):  # -w: tmux 3.2+
        try:
            done = subprocess.run(args, input=data, capture_output=True, timeout=TMUX_TIMEOUT, env=dict(env))
        except (OSError, subprocess.SubprocessError) as exc:
            return f"tmux failed: {exc.__class__.__name__}"
        if done.returncode == 0:
            return "ok"
        last = done.stderr.decode("utf-8", "replace").strip()[:120] or f"exit code {done.returncode}"
    return f"tmux refused: {last}"


def copy(text: str, osc52: Callable[[str], None], what: str, environ: dict[str, str] | None = None) -> tuple[str, bool]:
    """Copy ``text`` by OSC 52 (``osc52``) and, inside tmux, into tmux's buffer.

    ``what`` names the thing copied ("Exchange #4", "12 numbers"). Returns the
    message for the operator and whether it is a warning (tmux refused). The
    message never claims more than was done: OSC 52 is "sent", not "copied".
    """
    osc52(text)
    return describe(what, to_tmux(text, environ))


def describe(what: str, tmux: str | None) -> tuple[str, bool]:
    """The operator's message for a copy whose tmux step returned ``tmux`` (see
    :func:`to_tmux`), and whether it is a warning."""
    if tmux is None:
        return (
            f"{what}: sent to your terminal's clipboard with OSC 52 "
            "(works where the terminal allows it; over SSH too).",
            False,
        )
    if tmux == "ok":
        return (
            f"{what}: copied into tmux's paste buffer (prefix + ] pastes it; tmux also passes it "
            "to your terminal's clipboard where set-clipboard allows).",
            False,
        )
    return (
        f"{what}: NOT in tmux's buffer ({tmux}); sent with OSC 52, which tmux's default "
        "set-clipboard external discards. Save it to a file instead, or set "
        "`set -g set-clipboard on` in tmux.",
        True,
    )
