"""The request recorder: the one place every exchange is recorded.

It redacts before anything is stored or shown: the ``PASSWORD`` query
parameter, the api_key path segment of ``/api/doi/<account_id>/<api_key>/``,
credential headers, and every configured secret (in plain, percent-encoded and
form-encoded spelling) anywhere in URL, headers or body. Everything downstream
(request log, journal, exports, error texts) gets only what comes out of here.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
_PASSWORD_PARAM = re.compile(r"(?i)([?&;]password=)[^&#\s]*")
_DOI_KEY = re.compile(r"(/api/doi/[^/?#\s]+/)[^/?#\s]+")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer (or failure), already redacted."""

    id: int
    started: float  # epoch seconds
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str
    status: int | None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    response_bytes: int = 0
    response_truncated: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None
    attempt: int = 1

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies every header pair,
        # which cost ~0.3 ms per journalled exchange in a bulk run.
        d = {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]
        d["request_headers"] = [list(h) for h in self.request_headers]
        d["response_headers"] = [list(h) for h in self.response_headers]
        return d


Listener = Callable[[Exchange], None]


class _Secrets:
    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: tuple[str, ...] = ()  # longest first


class Recorder:
    def __init__(self, secrets: Iterable[str | None] = (), keep: int = 500):
        # A box shared with child recorders. Replaced whole, never changed in place:
        # a bulk job's thread redacts while the console may add the key (a list
        # sorted in place reads as empty to another thread meanwhile).
        self._secrets = _Secrets()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._parent: Recorder | None = None
        self.recent: deque[Exchange] = deque(maxlen=keep)
        self._listeners: list[Listener] = []
        for s in secrets:
            self.add_secret(s)

    def child(self, keep: int = 50) -> Recorder:
        """A recorder for one piece of work (a bulk job on its own thread): the same
        secrets (added later too), exchange ids from the same sequence, its own
        listeners; whatever it records also reaches this recorder's window and
        listeners. So a job can watch its own exchanges (a 429 that pauses it) without
        seeing the console's lookups, and the request log still shows the job's."""
        kid = Recorder(keep=keep)
        kid._secrets = self._secrets  # the same box: a key set later is redacted there too
        kid._ids, kid._lock, kid._parent = self._ids, self._lock, self
        return kid

    # -- secrets -----------------------------------------------------------
    def add_secret(self, secret: str | None) -> None:
        if not secret or len(secret) < 4:
            return
        spellings = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
        box = self._secrets
        with self._lock:
            box.values = tuple(sorted(set(box.values) | spellings, key=len, reverse=True))

    def redact(self, text: str) -> str:
        if not text:
            return text
        for s in self._secrets.values:
            if s in text:
                text = text.replace(s, MASK)
        return text

    def redact_url(self, url: str) -> str:
        url = _PASSWORD_PARAM.sub(lambda m: m.group(1) + MASK, url)
        url = _DOI_KEY.sub(lambda m: m.group(1) + MASK, url)
        return self.redact(url)

    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for k, v in headers:
            out.append((k, MASK if k.lower() in SECRET_HEADERS else self.redact(v)))
        return out

    # -- recording ---------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def record(
        self,
        *,
        started: float,
        method: str,
        url: str,
        request_headers: Iterable[tuple[str, str]] = (),
        request_body: str = "",
        status: int | None = None,
        response_headers: Iterable[tuple[str, str]] = (),
        response_body: str = "",
        response_bytes: int = 0,
        response_truncated: bool = False,
        elapsed_ms: float | None = None,
        error: str | None = None,
        attempt: int = 1,
    ) -> Exchange:
        with self._lock:
            ident = next(self._ids)
        ex = Exchange(
            id=ident,
            started=started,
            method=method,
            url=self.redact_url(url),
            request_headers=self.redact_headers(request_headers),
            request_body=self.redact(request_body),
            status=status,
            response_headers=self.redact_headers(response_headers),
            response_body=self.redact(response_body),
            response_bytes=response_bytes,
            response_truncated=response_truncated,
            elapsed_ms=(time.time() - started) * 1000 if elapsed_ms is None else elapsed_ms,
            error=self.redact(error) if error else None,
            attempt=attempt,
        )
        self._tell(ex)
        return ex

    def relay(self, ex: Exchange) -> Exchange:
        """An exchange recorded (and redacted) elsewhere, by a job's child process:
        given an id of this sequence (ids key the request log's rows) and passed on."""
        with self._lock:
            ident = next(self._ids)
        ex = dataclasses.replace(ex, id=ident)
        self._tell(ex)
        return ex

    def _tell(self, ex: Exchange) -> None:
        self.recent.append(ex)
        for listener in list(self._listeners):
            try:
                listener(ex)
            except Exception:  # a broken listener must not break the call
                pass
        if self._parent is not None:
            self._parent._tell(ex)
