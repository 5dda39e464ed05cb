"""Esc followed at once by a digit must stay Esc and the digit.

Textual (pinned at 8.2.8) maps ``ESC`` + ``0``-``9``, ``-`` and ``=`` to the
characters macOS types with the Option key (``º¡™£¢∞§¶•ª–≠``). A terminal sends
Esc and the next key back to back when they are typed within ``ESCDELAY`` (100 ms),
or when tmux or a paste delivers them together, so Esc then ``0700 000 105``
reached the console as ``º700000105``: the Esc was lost (focus stayed where it
was) and so was a digit, and the rest could read as another valid number. No
operator types those characters into this console. Without these twelve entries
the parser reports ``alt+0`` … with the digit as its character, which
:meth:`mobitui.tui.app.MobituiApp.on_event` takes as Esc and then the digit.
This module owns only that: it removes those entries from Textual's table, once.
"""

from __future__ import annotations

import string

_DONE = False


def keep_esc_before_characters() -> int:
    """Remove Textual's ``ESC`` + printable ASCII → other character mappings.

    Returns how many entries were removed (0 on a second call). Entries that
    map to a key (``ESC b`` → ctrl+left, ``ESC f`` → ctrl+right) are kept.
    """
    global _DONE
    if _DONE:
        return 0
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    doomed = [
        seq
        for seq, value in ANSI_SEQUENCES_KEYS.items()
        if len(seq) == 2 and seq[0] == "\x1b" and seq[1] in string.printable and isinstance(value, str)
    ]
    for seq in doomed:
        del ANSI_SEQUENCES_KEYS[seq]  # type: ignore[attr-defined]
    _DONE = True
    return len(doomed)
