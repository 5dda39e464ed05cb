"""HTTP for the client: httpcore's connections, under a small pool policy of our own.

httpcore (httpx's engine, pinned exactly in pyproject because this module uses its
connection classes directly) does the HTTP: h11's parser with its 100 KiB bound on
an answer's head, TLS, the connect/read/write timeouts of
``request.extensions["timeout"]``, Happy Eyeballs (``anyio.connect_tcp`` tries the
addresses of a host in turn, the next one 250 ms after the last, RFC 8305), proxies
(absolute-form requests to an ``http://`` origin, a CONNECT tunnel to an
``https://`` one), and the reuse checks that matter most: ``has_expired()`` is true
for an idle connection whose socket has become readable (the server closed it, or
sent bytes nobody asked for) or whose keep-alive expiry has passed, so a connection
a server has dropped is not written to.

What is ours is the pool *policy* only: httpcore's ``AsyncConnectionPool`` re-scans
every connection and every waiting request under one lock on each request and each
response closed, which at 50 connections measured ~9 ms of CPU per request here (11x
the floor of a bulk run; a known upstream cost, see README: Performance). So:
``max_connections`` slots (a semaphore, the ``pool`` timeout bounds the wait), idle
connections per origin with the newest taken first (the least likely to have been
closed by the server), httpcore's ``is_available()`` / ``has_expired()`` before a
reuse, and idle connections older than the expiry closed.

It never sends a request twice: a connection that fails is reported, not retried,
so a caller that must not resend (an unsubscribe) decides alone.

Exceptions cross one boundary, :class:`TransportError`, which says in which phase
the request failed: ``pool`` and ``connect`` (TCP, TLS handshake, proxy tunnel),
when no byte of the request has left; ``exchange`` (from the first byte written to
the answer's head) and ``body``, when the server may have the request. httpcore's
exception is its ``__cause__``; :func:`mobitui.core.errors.classify` words it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator
from enum import Enum
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

# Pinned (pyproject): the proxy connection classes are not re-exported by httpcore.
from httpcore._async.http_proxy import AsyncForwardHTTPConnection, AsyncTunnelHTTPConnection
from httpcore._utils import is_socket_readable


class Phase(Enum):
    """How far a failed request got (see the module docstring). A plain ``Enum``: it
    never leaves the process, so a comparison with a bare word cannot pass by accident."""

    POOL = "pool"  # waiting for a free connection
    CONNECT = "connect"  # TCP, TLS handshake, proxy tunnel
    EXCHANGE = "exchange"  # from the first byte written to the answer's head
    BODY = "body"  # reading the answer's body


POOL, CONNECT, EXCHANGE, BODY = Phase.POOL, Phase.CONNECT, Phase.EXCHANGE, Phase.BODY
logger = logging.getLogger(__name__)
NOT_SENT_PHASES = frozenset({Phase.POOL, Phase.CONNECT})

# httpcore raises these only before the request's first byte is written: from the
# TCP connect, the TLS handshake, the proxy's CONNECT answer, or a bad URL.
_BEFORE_THE_WRITE = (
    httpcore.ConnectError,
    httpcore.ConnectTimeout,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)

Origin = httpcore.Origin
OriginKey = tuple[bytes, bytes, int]  # httpcore's Origin is not hashable


class TransportError(Exception):
    """A request that failed; ``phase`` says how far it got (see the module docstring).

    ``reused`` is true when the request went out on a kept-alive connection.
    ``__cause__`` is httpcore's (or httpx's) exception, chained to the OS error behind it.
    """

    def __init__(self, phase: Phase | str, message: str, *, reused: bool = False) -> None:
        super().__init__(message)
        self.phase = Phase(phase)  # a bare word ("connect") names its member; ValueError if none
        self.reused = reused

    @property
    def not_sent(self) -> bool:
        """True when no byte of the request can have reached the server."""
        return self.phase in NOT_SENT_PHASES


class _HeldWrites(httpcore.AsyncNetworkStream):
    """A network stream that sends a request in one write.

    httpcore writes a request's head and its body with two ``send()`` calls; under a
    sandboxed kernel (gVisor, where this was measured) each system call costs
    0.3-0.5 ms of CPU, which was most of the client's cost per request. Writes are
    held and go out together just before the first read (HTTP/1.1: the answer is
    read only once the whole request is written). A write that fails then fails in
    that read, still after the write began: the phase is the same.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._held: list[bytes] = []
        self._timeout: float | None = None
        self._socket: socket.socket | None = None  # anyio builds a dict of every attribute on each look-up

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._held.append(buffer)
            self._timeout = timeout

    async def _flush(self) -> None:
        if self._held:
            data = b"".join(self._held)
            self._held.clear()
            await self._stream.write(data, timeout=self._timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush()
        return await self._stream.read(max_bytes, timeout=timeout)

    async def aclose(self) -> None:
        self._held.clear()
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        await self._flush()
        return _HeldWrites(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> object:
        if info == "is_readable":  # httpcore's reuse check, once per reuse: the socket looked up once
            if self._socket is None:
                self._socket = self._stream.get_extra_info("socket")
            return is_socket_readable(self._socket)
        return self._stream.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """anyio's backend (Happy Eyeballs in ``anyio.connect_tcp``), its streams wrapped in :class:`_HeldWrites`."""

    def __init__(self) -> None:
        self._anyio = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._anyio.connect_tcp(
            host,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,  # type: ignore[arg-type]
        )
        return _HeldWrites(stream)

    async def sleep(self, seconds: float) -> None:
        await self._anyio.sleep(seconds)


class _Pool:
    """Slots that bound the connections in use, and the idle connections per origin."""

    def __init__(self, max_connections: int, expiry: float) -> None:
        self.slots = asyncio.Semaphore(max_connections)
        self.expiry = expiry
        # per origin, (idle since, connection), the newest last
        self.idle: dict[OriginKey, list[tuple[float, httpcore.AsyncConnectionInterface]]] = {}
        self.open: set[httpcore.AsyncConnectionInterface] = set()

    async def acquire(self, timeout: float | None) -> None:
        """A slot for one exchange; waits at most ``timeout`` seconds for one to come free.

        Raises :class:`TransportError` (phase ``pool``) when none does."""
        if not self.slots.locked():
            await self.slots.acquire()  # a free slot: no pass of the event loop, no timer
            return
        try:
            async with asyncio.timeout(timeout):
                await self.slots.acquire()
        except TimeoutError as exc:
            err = TransportError(POOL, "no free connection within the pool timeout")
            raise err from httpcore.PoolTimeout(str(exc) or "pool timeout")

    async def take_idle(self, origin: OriginKey, now: float) -> httpcore.AsyncConnectionInterface | None:
        """The newest idle connection to ``origin`` that httpcore says may carry a request.

        Idle connections older than the expiry are closed first, the oldest first, by our
        own clock (httpcore's check polls the socket: one system call, made once, below)."""
        idle = self.idle.get(origin)
        if not idle:
            return None
        while idle and now - idle[0][0] > self.expiry:
            await self.close(idle.pop(0)[1])
        while idle:
            conn = idle.pop()[1]
            if conn.is_available() and not conn.has_expired():
                return conn
            await self.close(conn)
        return None

    async def give_back(self, conn: httpcore.AsyncConnectionInterface, origin: OriginKey, now: float) -> None:
        """The exchange is over (answer read, or failed): keep the connection idle or close it."""
        try:
            if conn.is_idle() and conn.is_available():
                self.idle.setdefault(origin, []).append((now, conn))
            elif conn.is_closed():
                self.open.discard(conn)
            else:  # left mid-answer: its next bytes would be the rest of this one
                await self.close(conn)
        finally:
            self.slots.release()

    async def close(self, conn: httpcore.AsyncConnectionInterface) -> None:
        self.open.discard(conn)
        try:
            await conn.aclose()
        except Exception:  # closing a broken socket: nothing left to do
            logger.debug("closing a connection failed", exc_info=True)

    async def close_all(self) -> None:
        conns = list(self.open)
        self.open.clear()
        self.idle.clear()
        for conn in conns:
            try:
                await conn.aclose()
            except Exception:  # closing everything: one broken socket must not keep the others open
                logger.debug("closing a connection failed", exc_info=True)


def _phase_of(exc: BaseException) -> Phase:
    return CONNECT if isinstance(exc, _BEFORE_THE_WRITE) else EXCHANGE


class _Answer(httpx.AsyncByteStream):
    """The answer's body; closing it gives the connection back to the pool."""

    def __init__(
        self,
        transport: HttpcoreTransport,
        conn: httpcore.AsyncConnectionInterface,
        origin: OriginKey,
        response: httpcore.Response,
        reused: bool,
    ) -> None:
        self._transport = transport
        self._conn = conn
        self._origin = origin
        self._response = response
        self._reused = reused
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_stream():
                yield chunk
        except httpcore.TimeoutException as exc:
            raise TransportError(BODY, str(exc) or "read timeout", reused=self._reused) from exc
        except httpcore.NetworkError as exc:
            raise TransportError(BODY, str(exc) or type(exc).__name__, reused=self._reused) from exc
        except httpcore.ProtocolError as exc:
            raise TransportError(BODY, str(exc) or type(exc).__name__, reused=self._reused) from exc

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        pool = self._transport._pool
        try:
            await self._response.aclose()
        finally:
            if pool is not None:
                await pool.give_back(self._conn, self._origin, time.monotonic())


class HttpcoreTransport(httpx.AsyncBaseTransport):
    """An httpx transport over httpcore connections. One per event loop (the pool is made
    on first use). TLS is verified with ``ssl_context`` (mobitui never turns it off).

    ``proxy``: ``http://[user:password@]host:port`` or ``https://…``; a request to an
    ``http://`` origin is sent to it in absolute form, one to ``https://`` through a
    CONNECT tunnel. Proxy credentials go in ``Proxy-Authorization`` (Basic, RFC 7617)."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        proxy: str | None = None,
    ) -> None:
        self._ssl = ssl_context
        self._max = max(1, max_connections)
        self._expiry = keepalive_expiry
        self._backend = _Backend()
        self._pool: _Pool | None = None
        self._proxy_origin: Origin | None = None
        self._proxy_headers: list[tuple[bytes, bytes]] = []
        if proxy:
            parts = urlsplit(proxy)
            scheme = parts.scheme.encode("ascii")
            port = parts.port or (443 if scheme == b"https" else 80)
            self._proxy_origin = Origin(scheme, (parts.hostname or "").encode("idna"), port)
            if parts.username is not None:
                userpass = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
                self._proxy_headers = [(b"Proxy-Authorization", b"Basic " + base64.b64encode(userpass))]

    def _new_connection(self, origin: Origin) -> httpcore.AsyncConnectionInterface:
        if self._proxy_origin is None:
            return httpcore.AsyncHTTPConnection(
                origin, ssl_context=self._ssl, keepalive_expiry=self._expiry, network_backend=self._backend
            )
        if origin.scheme == b"http":
            return AsyncForwardHTTPConnection(
                proxy_origin=self._proxy_origin,
                remote_origin=origin,
                proxy_headers=self._proxy_headers,
                keepalive_expiry=self._expiry,
                network_backend=self._backend,
                proxy_ssl_context=self._ssl,
            )
        return AsyncTunnelHTTPConnection(
            proxy_origin=self._proxy_origin,
            remote_origin=origin,
            ssl_context=self._ssl,
            proxy_ssl_context=self._ssl,
            proxy_headers=self._proxy_headers,
            keepalive_expiry=self._expiry,
            network_backend=self._backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` once; return the answer once its head is in (the body streams).

        Raises :class:`TransportError` (never anything else but cancellation)."""
        pool = self._pool
        if pool is None:
            pool = self._pool = _Pool(self._max, self._expiry)
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise TransportError(CONNECT, f"unsupported URL scheme {url.scheme!r}")
        key = (scheme, url.raw_host, url.port or (443 if scheme == b"https" else 80))
        core_request = httpcore.Request(
            request.method,
            httpcore.URL(scheme=scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.content,  # the client sends bytes, never a stream
            extensions=request.extensions,
        )
        await pool.acquire(request.extensions.get("timeout", {}).get("pool"))
        conn: httpcore.AsyncConnectionInterface | None = None
        try:
            conn = await pool.take_idle(key, time.monotonic())
            reused = conn is not None
            if conn is None:
                conn = self._new_connection(Origin(*key))
                pool.open.add(conn)
            try:
                response = await conn.handle_async_request(core_request)
            except httpcore.TimeoutException as exc:
                raise TransportError(_phase_of(exc), str(exc) or type(exc).__name__, reused=reused) from exc
            except (
                httpcore.NetworkError,
                httpcore.ProtocolError,
                httpcore.ProxyError,
                httpcore.UnsupportedProtocol,
            ) as exc:
                raise TransportError(_phase_of(exc), str(exc) or type(exc).__name__, reused=reused) from exc
        except BaseException:
            if conn is None:
                pool.slots.release()
            else:
                await pool.give_back(conn, key, time.monotonic())
            raise
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=_Answer(self, conn, key, response, reused),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close_all()
