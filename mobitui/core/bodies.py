"""Tolerant reading of every body form the Mobivate docs show.

The docs write JSON with Python literals (``True``, ``Null``), draw the MT
answer as ``{ "MT-..." }`` (not JSON), older integrations treat ``0`` as
success, the DOI route answers ``{"200": ...}`` / ``{"590": ...}`` with a
trailing comma, and a proxy in the way answers with an HTML page. A real
server may do any of that, so :func:`read_body` never raises: it returns what
it could make of the bytes.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MT_REF = re.compile(r"\bMT-[0-9A-Za-z]{8,64}\b")
_LITERAL_MAX = 64 * 1024
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_WORDS_OUTSIDE_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|\b(true|false|null|Null|NULL|none)\b')
_PY = {"true": "True", "false": "False", "null": "None", "Null": "None", "NULL": "None", "none": "None"}


class BodyKind(StrEnum):
    """The form a response body was read as. A ``StrEnum``: ``body.kind == "html"``
    still holds where the word was compared before this type existed."""

    JSON = "json"  # strict JSON
    LITERAL = "literal"  # the docs' Python-style literal (True, Null, sets, trailing commas)
    MT = "mt"  # an MT reference on its own ({ "MT-..." }, a bare string)
    ZERO = "zero"  # 0: success, as older integrations answer
    HTML = "html"  # a page, from a proxy or a server in the way
    TEXT = "text"  # anything else that is text
    EMPTY = "empty"  # no body, or whitespace only


@dataclass(slots=True)
class Body:
    """What a response body turned out to be."""

    kind: BodyKind
    data: Any = None  # the parsed value (dict, set, int...) when there is one
    text: str = ""  # the body decoded for display (replacement characters if needed)
    mt_reference: str | None = None
    html_title: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def mapping(self) -> dict[str, Any]:
        return self.data if isinstance(self.data, dict) else {}


def decode(raw: bytes) -> tuple[str, bool]:
    """UTF-8 text of a body, and whether bytes had to be replaced."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), True


def _python_literal(text: str) -> Any:
    """Parse JSON-with-Python-literals, trailing commas and sets, safely."""
    if len(text) > _LITERAL_MAX:
        raise ValueError("too large for literal parsing")

    def swap(m: re.Match[str]) -> str:
        word = m.group(1)
        return _PY[word] if word else m.group(0)

    return ast.literal_eval(_WORDS_OUTSIDE_STRINGS.sub(swap, text))


def _missing_commas(text: str) -> str:
    """The docs' request examples drop commas between fields."""
    return re.sub(r'("|\d|True|False|None|Null|true|false|null)\s*\n(\s*")', r"\1,\n\2", text)


def _html_title(text: str) -> str | None:
    for pattern in (_TITLE, _H1):
        m = pattern.search(text)
        if m:
            title = " ".join(_TAG.sub(" ", m.group(1)).split())
            if title:
                return title[:200]
    return None


def read_body(raw: bytes, content_type: str = "") -> Body:
    if not raw or not raw.strip():
        return Body(BodyKind.EMPTY, notes=["empty body"])
    text, replaced = decode(raw)
    notes = ["body is not valid UTF-8; undecodable bytes shown as \ufffd"] if replaced else []
    stripped = text.strip()

    looks_html = "html" in content_type.lower() or stripped[:1] == "<"
    if looks_html and re.search(r"<\s*(!doctype|html|head|body|title|h1)\b", stripped[:2048], re.I):
        return Body(BodyKind.HTML, text=text, html_title=_html_title(stripped), notes=notes)

    if stripped == "0":
        return Body(BodyKind.ZERO, data=0, text=text, notes=notes)

    data: Any = None
    kind: BodyKind | None = None
    try:
        data = json.loads(stripped)
        kind = BodyKind.JSON
    except (ValueError, RecursionError):
        for candidate in (stripped, _missing_commas(stripped)):
            try:
                data = _python_literal(candidate)
                kind = BodyKind.LITERAL
                notes.append("body is not JSON; read as the docs' Python-style literal")
                break
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue

    mt = None
    if isinstance(data, (set, frozenset, list, tuple)) and len(data) == 1:
        (only,) = tuple(data)
        if isinstance(only, str) and MT_REF.fullmatch(only.strip()):
            mt = only.strip()
            return Body(BodyKind.MT, data=mt, text=text, mt_reference=mt, notes=notes)
    if isinstance(data, str) and MT_REF.fullmatch(data.strip()):
        return Body(BodyKind.MT, data=data, text=text, mt_reference=data.strip(), notes=notes)
    if isinstance(data, dict):
        for v in data.values():
            if isinstance(v, str) and MT_REF.fullmatch(v.strip()):
                mt = v.strip()
                break
        assert kind is not None  # a dict comes only from parsing, which set the kind
        return Body(kind, data=data, text=text, mt_reference=mt, notes=notes)
    if isinstance(data, int) and not isinstance(data, bool) and data == 0:
        return Body(BodyKind.ZERO, data=0, text=text, notes=notes)

    m = MT_REF.fullmatch(stripped) or (
        MT_REF.search(stripped) if len(stripped) < 200 and stripped[:1] in "{[\"'" else None
    )
    if m:
        return Body(BodyKind.MT, data=m.group(0), text=text, mt_reference=m.group(0), notes=notes)
    if kind is not None:
        return Body(kind, data=data, text=text, notes=notes)
    return Body(BodyKind.TEXT, text=text, notes=notes)
