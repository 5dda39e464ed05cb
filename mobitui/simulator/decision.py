"""What an API route decides about a request, before any fault gets in the way.

A route first *decides* (:meth:`Api.decide`): which operation, which campaign
and number, what the answer would be, and what it would change. Deciding
changes nothing; the change is a separate ``commit`` that the request pipeline
applies unless a fault prevents it. Then the route *renders* the answer in the
style asked for (plain JSON, the docs' sloppy forms, or a faulty variant).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response


class Operation(StrEnum):
    STATUS = "status"
    UNSUBSCRIBE = "unsubscribe"
    INITIATE = "initiate"
    VALIDATE_PIN = "validate_pin"
    MT_SEND = "mt-send"
    MT_STOP = "mt-stop"
    DOI_STOP = "doi-stop"
    UNKNOWN = "unknown"


class Style(Enum):
    """How an answer is written out."""

    PLAIN = "plain"  # proper JSON (or the plain MT-... text on sendsms)
    DOCS = "docs"  # exactly the docs' sloppy forms (True/Null, { "MT-..." }, trailing comma)
    OLD_ZERO = "old-zero"  # gateway success as the old-style body 0
    MT_BRACES = "mt-braces"  # gateway success as { "MT-..." }
    LATIN1 = "latin1"  # latin-1 bytes in the body
    HOSTILE = "hostile"  # Rich markup and terminal escapes in the text fields
    HUGE = "huge"  # padded to ~3 MiB on one line
    TRUNCATED = "truncated"  # cut in the middle of the JSON object


@dataclass(slots=True)
class Decision:
    operation: Operation
    status: int  # HTTP status of the plain answer
    payload: Any  # route-specific: what the answer says
    summary: str  # for the log: the state answered, the reference, or the error
    msisdn: str | None = None
    campaign_id: str | None = None
    path: str = ""  # as received, API key redacted
    query: str = ""  # raw query string, API key redacted
    commit: Callable[[], None] | None = None  # the state change, applied by the pipeline


class Api(Protocol):
    """One family of endpoints (Subscription API, sendsms, DOI)."""

    async def decide(self, request: Request) -> Decision: ...

    def render(self, decision: Decision, style: Style) -> Response: ...

    def refuse_credentials(self, decision: Decision, style: Style) -> Response:
        """The answer this route gives to a request it does not authenticate."""
        ...
