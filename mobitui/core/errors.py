"""Plain-words descriptions of everything that can go wrong on the wire.

Two halves: transport failures (what the network did: DNS, refused, TLS,
connect timeout, read timeout, reset) classified from the exception chain, and
server answers (HTTP status, gateway codes, the fields of the JSON answer).

Whether a failed request *left the machine* decides whether a mutating call may
be retried: only :attr:`Sent.NO` failures are safe to resend.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
from dataclasses import dataclass
from enum import Enum

import httpx


class Sent(str, Enum):
    NO = "no"  # provably never reached the server: safe to resend
    MAYBE = "maybe"  # may have been received and acted on
    YES = "yes"


@dataclass(frozen=True, slots=True)
class TransportFailure:
    kind: str  # dns | refused | tls | connect_timeout | read_timeout | write_timeout | reset | protocol | pool_timeout | other
    message: str
    sent: Sent

    @property
    def transient(self) -> bool:
        return self.kind in {
            "refused",
            "connect_timeout",
            "read_timeout",
            "write_timeout",
            "reset",
            "protocol",
            "pool_timeout",
        }


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


def http_status(status: int, reason: str = "") -> str:
    if status == 401 or status == 403:
        return (
            f"HTTP {status}: the server refused the request as not authenticated. "
            "On the Subscription API this means the signature did not match "
            "(account_id + campaign_id + msisdn); check account_id in the config."
        )
    if status == 404:
        return "HTTP 404: the server has no such endpoint or campaign; check the base URL and campaign_id."
    if status == 511:
        return (
            "HTTP 511: the server refused the credentials (the gateway's 'Username or Password "
            "incorrect'). Check the key with `mobitui auth status`."
        )
    if status == 429:
        return "HTTP 429: rate limited by the server."
    if status == 502 or status == 504:
        return f"HTTP {status}: a proxy in front of the API could not reach it{(' (' + reason + ')') if reason else ''}."
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


def _aiohttp_kind(chain: list[BaseException]) -> str | None:
    """Classify from aiohttp's own exception, if the aiohttp transport raised it.

    httpx-aiohttp maps aiohttp errors lossily (a server disconnect becomes
    httpx.ConnectTimeout), so the original exception decides, never the
    mapped httpx type.
    """
    aiohttp = sys.modules.get("aiohttp")  # its errors exist only once a proxied request loaded it
    if aiohttp is None:
        return None
    for e in chain:
        if not isinstance(e, aiohttp.ClientError) and not isinstance(e, asyncio.TimeoutError):
            continue
        if isinstance(e, asyncio.TimeoutError) and not isinstance(e, aiohttp.ClientError):
            continue
        if isinstance(e, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
            return "tls"
        dns_error = getattr(aiohttp, "ClientConnectorDNSError", None)
        if dns_error is not None and isinstance(e, dns_error):
            return "dns"
        if isinstance(e, aiohttp.ConnectionTimeoutError):
            return "connect_timeout"
        if isinstance(e, aiohttp.SocketTimeoutError):
            return "read_timeout"
        if isinstance(e, aiohttp.ServerTimeoutError):
            return "read_timeout"
        if isinstance(e, aiohttp.ClientConnectorError):
            os_err = e.os_error
            if isinstance(os_err, socket.gaierror):
                return "dns"
            if isinstance(os_err, ssl.SSLError):
                return "tls"
            if isinstance(os_err, ConnectionRefusedError):
                return "refused"
            return "refused"
        if isinstance(e, aiohttp.ServerDisconnectedError):
            return "reset"
        if isinstance(e, aiohttp.ClientPayloadError):
            return "reset"
        if isinstance(e, aiohttp.ClientOSError):
            return "reset"
        if isinstance(e, aiohttp.ClientResponseError):
            return "protocol"
        return "other"
    return None


def classify(exc: BaseException, host: str, connect_timeout: float, read_timeout: float) -> TransportFailure:
    """Turn a transport exception into a kind, plain words and a sent-state."""
    chain = _chain(exc)
    kind = _aiohttp_kind(chain)
    if kind is None:
        if any(isinstance(e, ssl.SSLError) for e in chain):
            kind = "tls"
        elif any(isinstance(e, socket.gaierror) for e in chain):
            kind = "dns"
        elif any(isinstance(e, ConnectionRefusedError) for e in chain):
            kind = "refused"
        elif isinstance(exc, httpx.ConnectTimeout):
            kind = "connect_timeout"
        elif isinstance(exc, httpx.ReadTimeout):
            kind = "read_timeout"
        elif isinstance(exc, httpx.WriteTimeout):
            kind = "write_timeout"
        elif isinstance(exc, httpx.PoolTimeout):
            kind = "pool_timeout"
        elif isinstance(exc, httpx.ConnectError):
            text = str(exc).lower()
            if "name or service" in text or "nodename" in text or "resolve" in text:
                kind = "dns"
            elif "ssl" in text or "certificate" in text:
                kind = "tls"
            else:
                kind = "refused"
        elif isinstance(exc, (httpx.ReadError, httpx.WriteError)):
            kind = "reset"
        elif isinstance(exc, httpx.RemoteProtocolError):
            kind = "protocol"
        elif isinstance(exc, httpx.TimeoutException):
            kind = "read_timeout"
        else:
            kind = "other"
    return _describe(kind, exc, host, connect_timeout, read_timeout)


def _tls_detail(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return getattr(e, "verify_message", None) or "certificate verification failed"
        if isinstance(e, ssl.SSLError):
            return getattr(e, "reason", None) or "handshake failed"
    return "handshake failed"


def _describe(kind: str, exc: BaseException, host: str, ct: float, rt: float) -> TransportFailure:
    if kind == "dns":
        return TransportFailure(
            kind,
            f"DNS failure: cannot resolve {host}. Check the endpoint in the config and the bastion's DNS. Nothing was sent.",
            Sent.NO,
        )
    if kind == "refused":
        return TransportFailure(
            kind,
            f"Connection refused by {host}: nothing is listening there (wrong port, service down, or a firewall). Nothing was sent.",
            Sent.NO,
        )
    if kind == "tls":
        return TransportFailure(
            kind,
            f"TLS failure with {host}: {_tls_detail(exc)}. If a corporate proxy re-signs traffic, set network.ca_bundle. Nothing was sent.",
            Sent.NO,
        )
    if kind == "connect_timeout":
        return TransportFailure(
            kind,
            f"Connect timeout: no connection to {host} within {ct:g} s (network.connect_timeout). Nothing was sent.",
            Sent.NO,
        )
    if kind == "pool_timeout":
        return TransportFailure(
            kind,
            f"No free connection to {host} within {ct:g} s (too many requests in flight). Nothing was sent.",
            Sent.NO,
        )
    if kind == "read_timeout":
        return TransportFailure(
            kind,
            f"Read timeout: the request was sent to {host} but no answer came within {rt:g} s (network.read_timeout).",
            Sent.MAYBE,
        )
    if kind == "write_timeout":
        return TransportFailure(
            kind, f"Write timeout while sending the request to {host}.", Sent.MAYBE
        )
    if kind == "reset":
        return TransportFailure(
            kind,
            f"Connection reset: {host} closed the connection before a complete answer.",
            Sent.MAYBE,
        )
    if kind == "protocol":
        return TransportFailure(
            kind,
            f"Broken answer from {host}: the HTTP response was malformed or cut short.",
            Sent.MAYBE,
        )
    return TransportFailure(
        "other",
        f"Request to {host} failed: {type(exc).__name__}.",
        Sent.MAYBE,
    )
