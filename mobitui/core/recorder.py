r"""The request recorder: the one place every exchange is recorded.

It redacts before anything is stored or shown: the ``PASSWORD`` query
parameter, the api_key path segment of ``/api/doi/<account_id>/<api_key>/``,
credential headers, and every configured secret anywhere in URL, headers or
body: in plain, percent-encoded and form-encoded spelling, and also after
every decoding step a reader might apply (JSON escapes such as ``\u0041`` or
``\/``, percent-encoding, HTML entities, and these nested in each other), so
that no view that decodes a body (the exchange view's JSON pretty-printing, a
browser, a log viewer) can bring the key back. Texts derived from a body (a
result's error, reference, state, the answer's fields) pass through
:meth:`Recorder.scrub` where the client makes them. Everything downstream
(request log, journal, exports, error texts) gets only what comes out of here.

A key too short or too much like a number to be redacted safely (it would mask
digits of MSISDNs, or be missed) is refused: :func:`unsafe_key`.
"""

from __future__ import annotations

import dataclasses
import html.entities
import itertools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

logger = logging.getLogger(__name__)

MASK = "***"
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
_DOI_KEY = re.compile(r"(/api/doi/[^/?#\s]+/)[^/?#\s]+")
# In a server's text: the value of any PASSWORD parameter, whatever it is (an echo of
# the key in another case, cut short, or with a character changed is still the key).
# The '=' may be written as an entity or percent-encoded, with spaces around it; the
# value may be quoted, or hold entities and percent-escapes.
_PASSWORD_ANYWHERE = re.compile(
    r"(?i)(password\s*(?:=|&#0*61;|&#x0*3d;|&equals;|%3d)\s*)"
    r"(\"[^\"]*\"|'[^']*'|(?:[^&#%\s\"'<>\\]|&#?[0-9a-z]+;|%[0-9a-f]{2})+)"
)

MIN_KEY_LENGTH = 8
_NUMBERISH = re.compile(r"[\d\s+().-]+")


def unsafe_key(key: str) -> str | None:
    """Why ``key`` cannot be redacted safely, or None when it can.

    A key shorter than MIN_KEY_LENGTH characters occurs by chance in ordinary
    text, and one made only of digits (and phone punctuation) occurs inside
    MSISDNs: masking it would turn numbers into other numbers in the log, the
    journal and exports, and leaving it unmasked would show the key.
    """
    key = key.strip()
    if len(key) < MIN_KEY_LENGTH:
        return (
            f"the key has {len(key)} characters; mobitui needs at least {MIN_KEY_LENGTH} to keep it out "
            "of logs and the journal without masking other text"
        )
    if _NUMBERISH.fullmatch(key):
        return (
            "the key is made of digits only, so it can occur inside phone numbers: masking it would "
            "change MSISDNs in the log and the journal"
        )
    return None


class UnsafeKey(ValueError):
    """A key that cannot be redacted safely (see :func:`unsafe_key`)."""


# One decoding step, and for every character it yields the span of the text it
# came from. A reader may apply any of these; a key that only appears after one
# of them (or after several, nested) is found in the decoded text and the span
# it came from is masked in the original.
_ENCODED = re.compile(
    r"\\u(?P<u>[0-9a-fA-F]{4})"
    r"|\\x(?P<x>[0-9a-fA-F]{2})"
    r"|\\(?P<c>[\"\\/bfnrt'])"
    r"|%(?P<p>[0-9a-fA-F]{2})"
    r"|&#[xX](?P<hx>[0-9a-fA-F]{1,6});?"
    r"|&#(?P<dec>[0-9]{1,7});?"
    r"|&(?P<ent>[A-Za-z][A-Za-z0-9]{1,31};)"
)
_C_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_MAX_LAYERS = 4


def _char(m: re.Match[str]) -> str | None:
    try:
        if m.group("u") is not None:
            return chr(int(m.group("u"), 16))
        if m.group("x") is not None:
            return chr(int(m.group("x"), 16))
        if m.group("c") is not None:
            c = m.group("c")
            return _C_ESCAPES.get(c, c)
        if m.group("p") is not None:
            return chr(int(m.group("p"), 16))
        if m.group("hx") is not None:
            return chr(int(m.group("hx"), 16))
        if m.group("dec") is not None:
            return chr(int(m.group("dec")))
        return html.entities.html5.get(m.group("ent"))
    except (ValueError, OverflowError):
        return None


def _decode_once(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]] | None:
    """``text`` decoded one step, each character with its span in the original;
    None when nothing in it is encoded."""
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    pos = 0
    changed = False
    for m in _ENCODED.finditer(text):
        c = _char(m)
        if c is None:
            continue
        for i in range(pos, m.start()):
            out.append(text[i])
            out_spans.append(spans[i])
        out.append(c)
        out_spans.append((spans[m.start()][0], spans[m.end() - 1][1]))
        pos = m.end()
        changed = True
    if not changed:
        return None
    for i in range(pos, len(text)):
        out.append(text[i])
        out_spans.append(spans[i])
    return "".join(out), out_spans


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
        d = {name: getattr(self, name) for name in self.__slots__}
        d["request_headers"] = [list(h) for h in self.request_headers]
        d["response_headers"] = [list(h) for h in self.response_headers]
        return d


Listener = Callable[[Exchange], None]


# The longest a server's text is kept in a result (characters), after redaction.
SCRUBBED_LENGTHS = {"error": 2000, "reference": 100, "state": 60}


class _Secrets:
    __slots__ = ("pattern", "values")

    def __init__(self) -> None:
        self.values: tuple[str, ...] = ()  # longest first
        # Every spelling, in any letter case: a server that upper-cases what it echoes
        # (FAKE-K3Y-…) still gives the key away.
        self.pattern: re.Pattern[str] | None = None


# Every key any recorder of this process was given: the debug log redacts with it
# (core/logs.py), so a line logged anywhere is masked like a recorded exchange.
_PROCESS_SECRETS = _Secrets()
_process_lock = threading.Lock()


def _add_spellings(box: _Secrets, spellings: set[str], lock: threading.Lock) -> None:
    with lock:
        values = tuple(sorted(set(box.values) | spellings, key=len, reverse=True))
        pattern = re.compile("|".join(map(re.escape, values)), re.IGNORECASE)
        box.values, box.pattern = values, pattern  # a reader sees the old pair or the new one


def _encodes_a_secret(text: str, secrets: tuple[str, ...]) -> bool:
    """Cheap first look (no spans): does any decoding step reveal a secret?"""
    for _ in range(_MAX_LAYERS):
        decoded = _ENCODED.sub(lambda m: _char(m) or m.group(0), text)
        if decoded == text:
            return False
        text = decoded
        low = text.lower()
        if any(s.lower() in low for s in secrets):
            return True
    return False


def _mask_encoded(text: str, secrets: tuple[str, ...]) -> str:
    """Mask every span of ``text`` that decodes (in up to _MAX_LAYERS steps) to a secret."""
    if not _encodes_a_secret(text, secrets):
        return text
    spans = [(i, i + 1) for i in range(len(text))]
    layer = text
    hits: list[tuple[int, int]] = []
    for _ in range(_MAX_LAYERS):
        decoded = _decode_once(layer, spans)
        if decoded is None:
            break
        layer, spans = decoded
        low = layer.lower()
        if len(low) != len(layer):  # a letter whose lower case is longer: positions would shift
            low = layer
        for s in secrets:
            s = s.lower() if low is not layer else s
            start = low.find(s)
            while start != -1:
                end = start + len(s)
                hits.append((spans[start][0], spans[end - 1][1]))
                start = low.find(s, end)
    if not hits:
        return text
    hits.sort()
    out, pos = [], 0
    for a, b in hits:
        if b <= pos:
            continue
        a = max(a, pos)
        out.append(text[pos:a])
        out.append(MASK)
        pos = b
    out.append(text[pos:])
    return "".join(out)


_MAYBE_ENCODED = re.compile(r"[\\%&]")


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

    @classmethod
    def for_process(cls) -> Recorder:
        """A recorder that redacts with every key any recorder of this process was
        given (the debug log's redaction, :mod:`mobitui.core.logs`)."""
        r = cls(keep=1)
        r._secrets, r._lock = _PROCESS_SECRETS, _process_lock
        return r

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
        """Redact ``secret`` from now on. Raises UnsafeKey for a key that cannot be
        redacted safely (:func:`unsafe_key`): never half-redacted."""
        if not secret:
            return
        why = unsafe_key(secret)
        if why:
            raise UnsafeKey(why)
        spellings = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
        _add_spellings(self._secrets, spellings, self._lock)
        if self._secrets is not _PROCESS_SECRETS:
            _add_spellings(_PROCESS_SECRETS, spellings, _process_lock)

    def redact(self, text: str, decoded: bool = True) -> str:
        """``text`` with every secret masked: as written, in any letter case, after any
        decoding step (``decoded``), and whatever follows ``PASSWORD=`` (the key's
        parameter on the gateway routes: an echo of it cut short or altered is masked too)."""
        if not text:
            return text
        text = _PASSWORD_ANYWHERE.sub(lambda m: m.group(1) + MASK, text)
        box = self._secrets
        values, pattern = box.values, box.pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        if decoded and values and _MAYBE_ENCODED.search(text):
            text = _mask_encoded(text, values)
        return text

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._redact_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact_value(v) for v in value]
        return value

    def scrub(self, result: Any) -> Any:
        """A result as the client made it, with every text that came from a server
        (error, reference, state, the answer's fields: a gateway code's detail, an
        HTML title, an echoed request) redacted; the same object, returned. The one
        place such texts pass before they become a record or a screen."""
        for name, limit in SCRUBBED_LENGTHS.items():
            value = getattr(result, name, None)
            if isinstance(value, str):
                if self._secrets.values:
                    value = self.redact(value)
                # Cut only now: cut first, a key echoed near the end would be cut too,
                # and a cut key is no longer found to be redacted.
                setattr(result, name, value if len(value) <= limit else value[: limit - 1] + "…")
        if not self._secrets.values:
            return result
        answer = getattr(result, "answer", None)
        if isinstance(answer, dict) and answer:
            result.answer = self._redact_value(answer)
        return result

    def redact_url(self, url: str) -> str:
        """``url`` with the DOI key segment, the PASSWORD value and the key masked."""
        url = _DOI_KEY.sub(lambda m: m.group(1) + MASK, url)
        # A request URL is ours, its values encoded once by quote(): the spellings
        # suffice, and the decoding pass (a few tens of µs) is kept for server text.
        return self.redact(url, decoded=False)

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
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "exchange %d: %s %s -> %s in %.0f ms (attempt %d)%s",
                ex.id,
                ex.method,
                ex.url,
                ex.status if ex.status is not None else "no answer",
                ex.elapsed_ms,
                ex.attempt,
                f": {ex.error}" if ex.error else "",
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
                logger.debug("a listener of the request recorder failed", exc_info=True)
        if self._parent is not None:
            self._parent._tell(ex)
