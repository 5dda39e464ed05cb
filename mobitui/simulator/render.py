"""Writing answers out: JSON, the docs' Python-literal JSON, and the faulty variants."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from mobitui.simulator.canned import padding
from mobitui.simulator.decision import Style

JSON = "application/json"
TEXT = "text/plain"
HTML = "text/html"


def response(status: int, body: bytes | str, media_type: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    return response(status, json.dumps(obj).encode(), JSON, headers)


def encode_json(obj: dict[str, Any], style: Style) -> bytes:
    """JSON bytes; HUGE pads, LATIN1 writes latin-1, TRUNCATED cuts mid-object."""
    if style is Style.HUGE:
        obj = {**obj, "padding": padding()}
    text = json.dumps(obj, ensure_ascii=style is not Style.LATIN1)
    if style is Style.LATIN1:
        return text.encode("latin-1", errors="replace")
    data = text.encode()
    if style is Style.TRUNCATED:
        return data[: len(data) // 2]
    return data


def _literal(value: Any) -> str:
    if value is True:
        return "True"
    if value is False:
        return "False"
    if value is None:
        return "Null"
    return json.dumps(value)


def python_literal(fields: dict[str, Any]) -> str:
    """The Subscription API answer exactly as the docs print it (not JSON)."""
    lines = []
    for key, value in fields.items():
        # The docs write ' : ' everywhere except before "reference".
        colon = ": " if key == "reference" else " : "
        lines.append(f"  {json.dumps(key)}{colon}{_literal(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def mt_braces(reference: str) -> str:
    """The sendsms success as the docs draw it: a set, not JSON."""
    return "{\n  " + json.dumps(reference) + "\n}"
