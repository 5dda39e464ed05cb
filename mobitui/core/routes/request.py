"""A request as a route builds it: the same value for the confirmation dialog and for the wire."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from mobitui.core.config import Route


@dataclass(frozen=True, slots=True)
class Later:
    """A part of a request that is not shown as it is sent: known only when it is
    sent (the journal row, the minute), or never shown (the API key).

    ``shown`` is written in its place, verbatim (never URL-encoded, so ``<``/``>``
    cannot be mistaken for bytes of a real query, where they are always encoded);
    ``meaning`` says what is sent there; ``when_sent`` whether it is filled in when
    the request is sent (a name in ``<…>``) rather than never shown."""

    shown: str
    meaning: str
    when_sent: bool = True  # filled in when sent (else never shown: the key)


Part = str | Later


def encode(value: Part | int) -> str:
    """A query value or path segment as sent: percent-encoded with no safe characters
    (RFC 3986 §2.1; ``quote(v, safe="")``). A :class:`Later` is written as it is shown."""
    if isinstance(value, Later):
        return value.shown
    return quote(str(value), safe="")


def query(params: Iterable[tuple[str, Part | int]]) -> str:
    """``name=value&…`` with each value :func:`encode`-d."""
    return "&".join(f"{k}={encode(v)}" for k, v in params)


@dataclass(frozen=True, slots=True)
class Request:
    """One request of a route, built by :mod:`mobitui.core.routes.plan`.

    ``url`` is the whole URL, query included, byte for byte as sent; ``params`` are
    its query's (name, value) pairs before encoding (the DOI path's key is not
    among them); ``body`` the JSON object sent (None for a GET); ``reference`` the
    caller's reference the request carries (DOI only, else None). ``later`` lists
    the :class:`Later` parts written into ``url`` instead of their values: empty
    for a request that is sent. A request with the key in it is never shown: show
    :func:`mobitui.core.routes.plan.shown` of a plan built without the key."""

    route: Route
    method: str
    url: str
    params: tuple[tuple[str, Part], ...] = ()
    body: dict[str, str] | None = None
    reference: Part | None = None
    later: tuple[Later, ...] = field(default=())

    @property
    def content(self) -> bytes | None:
        """The body's bytes as sent (``json.dumps`` of :attr:`body`, UTF-8), None for none."""
        return json.dumps(self.body).encode() if self.body is not None else None

    @property
    def body_text(self) -> str:
        """The body as text, '' for none: what the dialog shows, equal to :attr:`content`."""
        return json.dumps(self.body) if self.body is not None else ""


def holes(*parts: Part | int | None) -> tuple[Later, ...]:
    """The :class:`Later` parts among ``parts``, in order, each once."""
    out: list[Later] = []
    for p in parts:
        if isinstance(p, Later) and p not in out:
            out.append(p)
    return tuple(out)
