"""Making server text inert before it reaches a terminal or a file.

Server answers may carry ANSI/OSC escape sequences (colour, cursor moves,
clipboard writes, title changes) or megabytes on one line. :func:`inert`
replaces every control character with a visible escape and bounds the length;
Rich markup is the console's business (it escapes with ``rich.markup.escape``),
plain text output only needs this.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def inert(text: str | None, limit: int | None = 2000, keep_newlines: bool = False) -> str:
    """Control characters shown as ``\\xNN``; longer than ``limit`` cut with a note."""
    if text is None:
        return ""
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f" … [{len(text) - limit} more characters]"
        text = text[:limit]
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    else:
        text = text.replace("\t", "    ")
    return _CONTROL.sub(_visible, text) + cut
