"""Terminal input that survives any bytes: a binary paste, a latin-1 terminal, 8-bit Meta.

Textual's Linux driver decodes the terminal's bytes with a strict incremental
UTF-8 decoder on its input thread: one byte that is not UTF-8 (0xE9 from a
latin-1 terminal, a Meta key sending 0x80 | key, a paste of a binary file)
raises UnicodeDecodeError there, the thread dies and the console exits. We own
only that decoder: the same one with ``errors="replace"``, so such bytes arrive
as U+FFFD, are shown, and the paste parser rejects their lines.

This depends on Textual's internals, pinned exactly (textual==8.2.8 in
pyproject.toml): ``LinuxDriver.run_input_thread`` builds its decoder from the
``getincrementaldecoder`` name of its module when the thread starts.
tests/test_console.py checks that this is still so.
"""

from __future__ import annotations

import codecs
from functools import partial
from typing import Any

from textual.drivers import linux_driver


def _replacing_decoder(encoding: str) -> Any:
    """What ``codecs.getincrementaldecoder`` returns, made to replace undecodable bytes."""
    return partial(codecs.getincrementaldecoder(encoding), errors="replace")


class TerminalDriver(linux_driver.LinuxDriver):
    """Textual's Linux driver whose input thread never dies of a byte that is not UTF-8."""

    def run_input_thread(self) -> None:
        # The stock method reads the module-level name once, at the start of the thread.
        linux_driver.getincrementaldecoder = _replacing_decoder
        super().run_input_thread()
