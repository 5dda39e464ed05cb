"""Server text, made inert for the screen.

Every string that came from a server (or could have) is shown as a Rich
``Text`` (never parsed as markup) after :func:`mobitui.core.text.inert` has
replaced control characters and bounded its length.
"""

from __future__ import annotations

from rich.text import Text

from mobitui.core.text import inert


def plain(value: object, limit: int | None = 500, style: str = "") -> Text:
    return Text(inert(None if value is None else str(value), limit), style=style, end="")


def block(value: str, limit: int | None = 65_536) -> Text:
    """Multi-line text (bodies), newlines kept, control characters shown."""
    return Text(inert(value, limit, keep_newlines=True), end="")
