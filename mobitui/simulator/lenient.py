"""Tolerant reading of request bodies.

The docs' own request examples are not JSON (no commas between fields), so a
client copying them must still be understood. Tried in order: JSON; JSON
repaired (missing or trailing commas, Python literals, single quotes); a form
encoded body (``msisdn=...&signature=...``).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY = 64 * 1024

_TOKEN = re.compile(r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|[{}\[\]:,]|[^\s{}\[\]:,"']+""")
_LITERALS = {"True": "true", "False": "false", "None": "null", "Null": "null", "NULL": "null"}


def _ends_value(token: str) -> bool:
    return token not in {"{", "[", ":", ","}


def _starts_value(token: str) -> bool:
    return token not in {"}", "]", ":", ","}


def repair(text: str) -> str:
    """Rewrite almost-JSON as JSON; the result may still not parse."""
    out: list[str] = []
    previous: str | None = None
    for token in _TOKEN.findall(text):
        token = _LITERALS.get(token, token)
        if token.startswith("'"):
            token = json.dumps(token[1:-1])
        if token in {"}", "]"} and previous == ",":
            out.pop()  # trailing comma
        elif previous is not None and _ends_value(previous) and _starts_value(token):
            out.append(",")  # missing comma between fields
        out.append(token)
        previous = token
    return "".join(out)


def parse_object(raw: bytes) -> dict[str, Any] | None:
    """The fields of a request body, or None if nothing sensible is in it."""
    text = raw[:MAX_BODY].decode("utf-8", errors="replace").strip()
    if not text:
        return None
    for attempt in (lambda: text, lambda: repair(text)):  # repair only when needed
        try:
            value = json.loads(attempt())
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    if "=" in text and not text.startswith(("{", "[")):
        return dict(parse_qsl(text, keep_blank_values=True))
    return None
