"""Plain-words descriptions of everything that can go wrong on the wire.

Two halves: transport failures (what the network did: DNS, refused, TLS,
connect timeout, read timeout, reset) classified from the exception chain, and
server answers (HTTP status, gateway codes, the fields of the JSON answer).

Whether a failed request *left the machine* decides whether a mutating call may
be retried: only :attr:`Sent.NO` failures are safe to resend. That is decided by
the phase the request failed in (see :mod:`mobitui.core.transport`), never by the
kind of error: a TLS error after the write is a request that may have arrived.
"""

from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TYPE_CHECKING

import httpcore
import httpx

if TYPE_CHECKING:
    from mobitui.core.transport import Phase


class Sent(str, Enum):
    NO = "no"  # provably never reached the server: safe to resend
    MAYBE = "maybe"  # may have been received and acted on
    YES = "yes"


class FailureKind(StrEnum):
    """What the network did to a request, as :func:`classify` reads it.

    A ``StrEnum``: the value is the word code compared and shown before this type
    existed (``f.kind == "refused"`` still holds), so nothing written changes."""

    # Before the write (Sent.NO): nothing left the machine.
    DNS = "dns"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TLS = "tls"
    CONNECT_TIMEOUT = "connect_timeout"
    POOL_TIMEOUT = "pool_timeout"
    PROXY = "proxy"
    UNSUPPORTED = "unsupported"
    # After it (Sent.MAYBE, or Sent.YES once the answer began).
    READ_TIMEOUT = "read_timeout"
    TOO_SLOW = "too_slow"
    WRITE_TIMEOUT = "write_timeout"
    RESET = "reset"
    STALE = "stale"
    PROTOCOL = "protocol"
    HEAD_TOO_LARGE = "head_too_large"
    TLS_AFTER = "tls_after"
    DECODING = "decoding"  # Sent.YES: the answer came
    OTHER = "other"


# Worth trying again by themselves (a busy or restarting server, a dropped connection).
TRANSIENT_KINDS = frozenset(
    {
        FailureKind.REFUSED,
        FailureKind.CONNECT_TIMEOUT,
        FailureKind.READ_TIMEOUT,
        FailureKind.WRITE_TIMEOUT,
        FailureKind.RESET,
        FailureKind.PROTOCOL,
        FailureKind.POOL_TIMEOUT,
        FailureKind.STALE,
        FailureKind.TOO_SLOW,
    }
)

# An unsubscribe that failed in one of these provably never left: the only ones it
# may be resent after (a mutating call is never retried on a guess).
NOT_SENT_KINDS = frozenset({FailureKind.REFUSED, FailureKind.CONNECT_TIMEOUT, FailureKind.POOL_TIMEOUT})


@dataclass(frozen=True, slots=True)
class TransportFailure:
    kind: FailureKind
    message: str
    sent: Sent

    def __post_init__(self) -> None:
        # A plain word from older code is taken as the member it names (ValueError if none).
        object.__setattr__(self, "kind", FailureKind(self.kind))

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_KINDS


# Gateway result codes. 511 is documented (seed 003); the rest come from an old
# public integration and are a best-effort catalogue, not gospel.
GATEWAY_CODES: dict[int, str] = {
    0: "successful send",
    301: "invalid username (account ID)",
    302: "invalid password (API key)",
    403: "site disabled for this account",
    500: "generic gateway failure",
    501: "delivery to the mobile network failed",
    502: "no route to the mobile network",
    506: "the gateway could not parse the request",
    511: "username or password incorrect: the gateway refused the account ID / API key",
    513: "duplicate message rejected",
    514: "the number does not match the country",
    515: "country not specified",
    516: "originator (shortcode) not specified",
    518: "originator equals recipient",
    523: "insufficient credit on the account",
    524: "downstream connection error at the gateway",
    529: "the carrier rejected the message",
    530: "message too large",
    531: "blank message",
    535: "invalid ORIGINATOR address (shortcode)",
    550: "generic gateway error",
    590: "SEND_FAILED: the gateway could not send the stop message",
}

_WAY_OUT = {
    511: " Check the key with `mobitui auth status`; set it with `mobitui auth set`.",
    301: " Check account_id in the config.",
    302: " Check the key with `mobitui auth status`; set it with `mobitui auth set`.",
    523: " Top up the account; nothing was sent to the subscriber.",
}


def gateway_code(code: int, detail: str | None = None) -> str:
    base = GATEWAY_CODES.get(code)
    if base is None:
        text = f"gateway answered code {code}, which is not in our catalogue"
    else:
        text = f"gateway code {code}: {base}"
    if detail:
        text += f" (server said: {detail})"
    return text + "." + _WAY_OUT.get(code, "")


def http_status(status: int, reason: str = "", key_sent: bool = True) -> str:
    """Plain words for an HTTP status that is not a success (RFC 9110 §15).

    ``key_sent``: whether the request carried the API key (the gateway routes do,
    the Subscription API does not), so a 511 is never blamed on a key not sent.
    """
    if status == 401 or status == 403:
        return (
            f"HTTP {status}: the server refused the request as not authenticated. "
            "On the Subscription API this means the signature did not match "
            "(account_id + campaign_id + msisdn); check account_id in the config."
        )
    if status == 404:
        return "HTTP 404: the server has no such endpoint or campaign; check the base URL and campaign_id."
    if status == 511 and not key_sent:
        return (
            "HTTP 511: the server asks for network authentication (RFC 6585). The Subscription "
            "API takes no API key, so the key is not the cause: a captive portal or a proxy in "
            "the way wants a login, or the service refuses this account."
        )
    if status == 511:
        return (
            "HTTP 511: the server refused the credentials (the gateway's 'Username or Password "
            "incorrect'). Check the key with `mobitui auth status`; set it with `mobitui auth set`."
        )
    if status == 429:
        return "HTTP 429: rate limited by the server."
    if status == 502 or status == 504:
        return (
            f"HTTP {status}: a proxy in front of the API could not reach it{(' (' + reason + ')') if reason else ''}."
        )
    if status == 503:
        return "HTTP 503: the service is unavailable (overloaded or in maintenance)."
    if 500 <= status < 600:
        return f"HTTP {status}: the server failed{(' (' + reason + ')') if reason else ''}."
    if 400 <= status < 500:
        return f"HTTP {status}: the server rejected the request{(' (' + reason + ')') if reason else ''}."
    return f"HTTP {status}: unexpected answer."


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or any(e is s for s in seen) or len(seen) > 20:
            continue
        seen.append(e)
        stack.extend([e.__cause__, e.__context__])  # type: ignore[list-item]
    return seen


# Before the request's first byte is written: the pool, the TCP connect, the TLS
# handshake, a proxy's tunnel. httpx's types for these, for an exception that did
# not come through mobitui.core.transport (which says the phase itself).
_BEFORE_THE_WRITE = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


def phase(exc: BaseException) -> Phase:
    """How far the request got: ``Phase.POOL``, ``Phase.CONNECT`` (nothing sent) or
    ``Phase.EXCHANGE`` / ``Phase.BODY``.

    Read from :class:`mobitui.core.transport.TransportError` where the transport raised
    it; for any other exception from httpx's types (connect and pool errors happen
    before the write); anything else counts as after the write (the safe side)."""
    from mobitui.core.transport import Phase, TransportError

    if isinstance(exc, TransportError):
        return exc.phase
    if isinstance(exc, httpx.PoolTimeout):
        return Phase.POOL
    if isinstance(exc, _BEFORE_THE_WRITE):
        return Phase.CONNECT
    return Phase.EXCHANGE


def classify(
    exc: BaseException,
    host: str,
    connect_timeout: float,
    read_timeout: float,
    *,
    answer_started: bool = False,
    deadline: float | None = None,
) -> TransportFailure:
    """Turn a transport exception into a kind, plain words and a sent-state.

    Inputs: the exception (its chain is read), the ``host[:port]`` to name, the
    configured timeouts in seconds, whether the answer's head had arrived, and the
    whole-exchange ``deadline`` in seconds when that is what expired.
    The sent-state is decided by the phase alone (:func:`phase`): before the write
    nothing was sent; after it the server may have the request (``Sent.MAYBE``), or
    has it (``Sent.YES``) once its answer began. The chain only chooses the words:
    an ``ssl.SSLError`` after the write is a TLS failure of a request that was sent."""
    from mobitui.core.transport import Phase

    chain = _chain(exc)
    where = phase(exc)
    reused = bool(getattr(exc, "reused", False))
    text = " ".join(str(e).lower() for e in chain)
    kind: FailureKind
    if where is Phase.POOL:
        kind = FailureKind.POOL_TIMEOUT
    elif where is Phase.CONNECT:
        if any(isinstance(e, socket.gaierror) for e in chain):
            kind = FailureKind.DNS
        elif any(isinstance(e, ssl.SSLError) for e in chain):
            kind = FailureKind.TLS
        elif any(isinstance(e, ConnectionRefusedError) for e in chain):
            kind = FailureKind.REFUSED
        elif any(isinstance(e, (httpx.ConnectTimeout, httpcore.ConnectTimeout, TimeoutError)) for e in chain):
            kind = FailureKind.CONNECT_TIMEOUT
        elif any(isinstance(e, (httpx.ProxyError, httpcore.ProxyError)) for e in chain):
            kind = FailureKind.PROXY
        elif any(isinstance(e, (httpx.UnsupportedProtocol, httpcore.UnsupportedProtocol)) for e in chain):
            kind = FailureKind.UNSUPPORTED
        elif "name or service" in text or "nodename" in text or "resolve" in text:
            kind = FailureKind.DNS
        elif any(isinstance(e, OSError) and e.errno in _UNREACHABLE for e in chain):
            kind = FailureKind.UNREACHABLE
        else:
            kind = FailureKind.REFUSED
    elif deadline is not None or (
        isinstance(exc, TimeoutError)
        and not any(isinstance(e, (httpx.TimeoutException, httpcore.TimeoutException)) for e in chain)
    ):
        kind = FailureKind.TOO_SLOW
    elif any(isinstance(e, httpx.DecodingError) for e in chain):
        kind = FailureKind.DECODING
    elif any(isinstance(e, ssl.SSLError) for e in chain):
        kind = FailureKind.TLS_AFTER
    elif "receive buffer too long" in text:
        kind = FailureKind.HEAD_TOO_LARGE
    elif any(isinstance(e, (httpx.ReadTimeout, httpcore.ReadTimeout)) for e in chain):
        kind = FailureKind.READ_TIMEOUT
    elif any(isinstance(e, (httpx.WriteTimeout, httpcore.WriteTimeout)) for e in chain):
        kind = FailureKind.WRITE_TIMEOUT
    elif (
        any(
            isinstance(e, (httpx.ReadError, httpx.WriteError, httpcore.ReadError, httpcore.WriteError, ConnectionError))
            for e in chain
        )
        or "disconnected" in text
        or "incomplete" in text
    ):
        # On a kept-alive connection, before any answer: the server dropped the connection
        # as the request went out (httpcore had checked it was not closed while idle).
        kind = FailureKind.STALE if reused and where is Phase.EXCHANGE and not answer_started else FailureKind.RESET
    elif any(isinstance(e, (httpx.RemoteProtocolError, httpcore.RemoteProtocolError)) for e in chain):
        kind = FailureKind.PROTOCOL
    elif any(isinstance(e, (httpx.TimeoutException, httpcore.TimeoutException)) for e in chain):
        kind = FailureKind.READ_TIMEOUT
    else:
        kind = FailureKind.OTHER
    failure = _describe(kind, exc, host, connect_timeout, read_timeout, deadline)
    if answer_started and failure.sent is Sent.MAYBE:
        failure = TransportFailure(failure.kind, failure.message, Sent.YES)
    return failure


_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL}


def _tls_detail(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return getattr(e, "verify_message", None) or "certificate verification failed"
        if isinstance(e, ssl.SSLError):
            return getattr(e, "reason", None) or "handshake failed"
    return "handshake failed"


def _detail(exc: BaseException) -> str:
    """The innermost message of the chain worth showing (never just a class name)."""
    for e in reversed(_chain(exc)):
        msg = str(e).strip()
        if msg:
            return msg[:200]
    return type(exc).__name__


def _describe(
    kind: FailureKind, exc: BaseException, host: str, ct: float, rt: float, deadline: float | None = None
) -> TransportFailure:
    nothing = " Nothing was sent."
    maybe = " The server may have received the request."
    if kind is FailureKind.DNS:
        return TransportFailure(
            kind,
            f"DNS failure: cannot resolve {host}. Check the endpoint in the config and the bastion's DNS.{nothing}",
            Sent.NO,
        )
    if kind is FailureKind.REFUSED:
        return TransportFailure(
            kind,
            f"Connection refused by {host}: nothing is listening there (wrong port, service down, or a firewall).{nothing}",
            Sent.NO,
        )
    if kind is FailureKind.UNREACHABLE:
        return TransportFailure(
            kind,
            f"No route to {host}: the network or host is unreachable from here ({_detail(exc)}).{nothing}",
            Sent.NO,
        )
    if kind is FailureKind.TLS:
        return TransportFailure(
            kind,
            f"TLS failure with {host}: {_tls_detail(exc)}. If a corporate proxy re-signs traffic, set network.ca_bundle.{nothing}",
            Sent.NO,
        )
    if kind is FailureKind.CONNECT_TIMEOUT:
        return TransportFailure(
            kind,
            f"Connect timeout: no connection to {host} within {ct:g} s (network.connect_timeout).{nothing}",
            Sent.NO,
        )
    if kind is FailureKind.POOL_TIMEOUT:
        return TransportFailure(
            kind,
            f"No free connection to {host} within {ct:g} s (too many requests in flight).{nothing}",
            Sent.NO,
        )
    if kind is FailureKind.PROXY:
        return TransportFailure(
            kind,
            f"The proxy (network.proxy) would not open a tunnel to {host}: {_detail(exc)}. Check network.proxy.{nothing}",
            Sent.NO,
        )
    if kind is FailureKind.UNSUPPORTED:
        return TransportFailure(
            kind, f"Cannot send to {host}: {_detail(exc)}. Check the endpoint in the config.{nothing}", Sent.NO
        )
    if kind is FailureKind.READ_TIMEOUT:
        return TransportFailure(
            kind,
            f"Read timeout: the request was sent to {host} but no answer came within {rt:g} s (network.read_timeout).",
            Sent.MAYBE,
        )
    if kind is FailureKind.TOO_SLOW:
        within = f" within {deadline:g} s" if deadline is not None else " in time"
        return TransportFailure(
            kind,
            f"Answer too slow: {host} was still sending its answer, a trickle at a time, and it was not "
            f"complete{within} (network.connect_timeout + 2 x network.read_timeout + 1); the rest was not waited for."
            + maybe,
            Sent.MAYBE,
        )
    if kind is FailureKind.DECODING:
        return TransportFailure(
            kind,
            f"Mislabelled answer: {host} said its body was compressed (Content-Encoding) but it could not be "
            "decoded as such, so it was not read.",
            Sent.YES,
        )
    if kind is FailureKind.HEAD_TOO_LARGE:
        return TransportFailure(
            kind,
            f"Answer head too large: {host} sent more than 100 KiB of status line and headers without "
            "ending them; the answer was not read." + maybe,
            Sent.MAYBE,
        )
    if kind is FailureKind.TLS_AFTER:
        return TransportFailure(
            kind,
            f"TLS failure after the request was sent to {host}: {_tls_detail(exc)}; the answer could not be read."
            + maybe,
            Sent.MAYBE,
        )
    if kind is FailureKind.STALE:
        return TransportFailure(
            kind,
            f"Stale connection: {host} closed a kept-alive connection just as the request went out on it, "
            "without answering." + maybe,
            Sent.MAYBE,
        )
    if kind is FailureKind.WRITE_TIMEOUT:
        return TransportFailure(kind, f"Write timeout while sending the request to {host}." + maybe, Sent.MAYBE)
    if kind is FailureKind.RESET:
        return TransportFailure(
            kind,
            f"Connection reset: {host} closed the connection before a complete answer.",
            Sent.MAYBE,
        )
    if kind is FailureKind.PROTOCOL:
        return TransportFailure(
            kind,
            f"Broken answer from {host}: the HTTP response was malformed or cut short ({_detail(exc)}).",
            Sent.MAYBE,
        )
    return TransportFailure(
        FailureKind.OTHER,
        f"Request to {host} failed after it was sent: {_detail(exc)}." + maybe,
        Sent.MAYBE,
    )
