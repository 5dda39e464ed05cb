"""What a recorded exchange was: the operation and the MSISDN, read back from the request.

The request log shows many calls that look alike (`…/status` and `…/unsubscribe`
differ in their last characters, which a narrow column cuts off). The client
builds every request from these few shapes (README "How the routes are called"),
so the operation and the number are read back from the request itself; an
exchange of any other shape (a proxy's page, a redirect target) is shown as "?".
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from mobitui.core.recorder import Exchange


def describe(ex: Exchange) -> tuple[str, str]:
    """``(operation, msisdn)`` of a recorded exchange, for display.

    Operations: ``status`` and ``unsubscribe`` (Subscription API, POST),
    ``mt-stop`` (GET /srs/api/sendsms), ``doi-stop`` (GET /api/doi/… with stop),
    else ``"?"``. The MSISDN is the request body's ``msisdn`` or the query's
    ``RECIPIENT`` / ``destination``; ``""`` when there is none. Never raises.
    """
    try:
        parts = urlsplit(ex.url)
    except ValueError:
        return "?", ""
    path = parts.path.rstrip("/")
    query = parse_qs(parts.query, keep_blank_values=True)
    if path.endswith("/srs/api/sendsms"):
        operation = "mt-stop" if "STOP" in " ".join(query.get("STARTED", [])).upper() else "sendsms"
        return operation, _first(query, "RECIPIENT")
    if "/api/doi/" in parts.path:
        return ("doi-stop" if "stop" in query else "doi"), _first(query, "destination")
    operation = path.rsplit("/", 1)[-1] if path.endswith(("/status", "/unsubscribe")) else "?"
    msisdn = ""
    if ex.request_body:
        try:
            body = json.loads(ex.request_body)
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict) and isinstance(body.get("msisdn"), str):
            msisdn = body["msisdn"]
    return operation, msisdn


def _first(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    return values[0] if values else ""
