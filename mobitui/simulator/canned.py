"""Canned text for the faults: error pages, hostile strings, padding."""

from __future__ import annotations

import functools

MAINTENANCE_HTML = """<!DOCTYPE html>
<html>
<head><title>503 Service Unavailable - Scheduled Maintenance</title></head>
<body>
<h1>Service temporarily unavailable</h1>
<p>We are performing scheduled maintenance. Please try again shortly.</p>
</body>
</html>
"""

NGINX_502_HTML = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""

# Rich console markup: must be shown literally, never interpreted.
HOSTILE_MARKUP = "[bold red]x[/] [link=http://evil.example]click[/link]"
# Terminal escapes that must never reach a terminal raw.
HOSTILE_ESCAPES = (
    "\x1b[31mred\x1b[0m"  # colour
    "\x1b[2J\x1b[H\x1b[5A\x1b[10C"  # clear the screen, move the cursor
    "\x1b]52;c;aGFja2Vk\x07"  # OSC 52: write "hacked" (base64) to the clipboard
    "\x1b]0;pwned\x07"  # OSC 0: set the window title
)
HOSTILE_NAME = f"Hostile {HOSTILE_MARKUP} {HOSTILE_ESCAPES}"
HOSTILE_ERROR = f"{HOSTILE_MARKUP} {HOSTILE_ESCAPES}"

# Written as latin-1 bytes, which are not valid UTF-8.
LATIN1_TEXT = "Promoción Año Niño"

HUGE_BYTES = 3 * 1024 * 1024


@functools.cache
def padding() -> str:
    return "x" * HUGE_BYTES
