"""Reading the raw query string, where the ``+`` in ``+STOP`` matters.

A standard form decoder turns a bare ``+`` into a space, so a client that sends
``STARTED=2024-01-01%2011:00+STOP`` and one that sends ``...%2BSTOP`` would be
told apart only by looking at the raw bytes. This module keeps both the raw and
the decoded value of every parameter, so the gateway can accept either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

STOP_SUFFIXES = ("+STOP", " STOP")


@dataclass(frozen=True, slots=True)
class Param:
    raw: str  # as received, still percent-encoded
    value: str  # form-decoded: %XX decoded and a bare + read as a space


class Query:
    """Parameters by case-insensitive name; the first occurrence wins."""

    def __init__(self, raw: str):
        self.raw = raw
        self._params: dict[str, Param] = {}
        for pair in raw.split("&"):
            if not pair:
                continue
            name, _, value = pair.partition("=")
            key = unquote_plus(name).strip().lower()
            self._params.setdefault(key, Param(value, unquote_plus(value)))

    def get(self, name: str) -> str | None:
        param = self._params.get(name.lower())
        return None if param is None else param.value

    def has(self, name: str) -> bool:
        return name.lower() in self._params

    def ends_with_stop(self, name: str) -> bool:
        """Whether the value ends in ``+STOP``, sent as ``%2B`` or as a bare ``+``."""
        param = self._params.get(name.lower())
        if param is None:
            return False
        # unquote (not unquote_plus) keeps a bare "+" and decodes "%2B" to "+",
        # so both spellings end in "+STOP"; "%20STOP" ends in " STOP".
        return unquote(param.raw).rstrip().upper().endswith(STOP_SUFFIXES)


def redact_param(raw_query: str, name: str) -> str:
    """The raw query with the value of ``name`` (any case) replaced by ``***``."""
    pattern = re.compile(rf"(^|&)({re.escape(name)}=)[^&]*", re.IGNORECASE)
    return pattern.sub(r"\1\2***", raw_query)
