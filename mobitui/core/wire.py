"""An HTTP/1.1 transport for httpx: asyncio protocols, answers parsed by httptools.

Why not aiohttp (through httpx-aiohttp) for the API calls: on CPython 3.11 a
status check through aiohttp and the adapter costs ~0.25 ms more CPU than
through this transport, and the request waits for an extra pass of the event
loop before it leaves (aiohttp writes a request body from a task of its own,
started eagerly only on Python 3.12+). At 50 requests in flight those passes
and that CPU are most of what a bulk run spends beyond the server's latency
(README: Performance). Here a request leaves with one ``transport.write`` in
the caller's own step, and the answer is handed over from ``data_received``.

What it does: keep-alive connections per origin (the newest idle one first;
at most ``max_connections`` in use), TLS with the given context (verification
is the context's: always on in mobitui), the ``connect``, ``read`` and ``pool``
timeouts of ``request.extensions["timeout"]``, answers with a Content-Length,
chunked, or read until the server closes. It never sends a request twice: a
connection that fails is reported, not retried, so a caller that must not
resend (an unsubscribe) decides alone.

What it does not do: proxies (``make_transport`` uses the aiohttp transport
when ``network.proxy`` is set), HTTP/2, ``Expect: 100-continue``, request
bodies that are streams (the client sends bytes).

Errors are httpx's, each chained to the OS or parser error behind it, which
is what :func:`mobitui.core.errors.classify` reads.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator

import httptools
import httpx

_PAUSE_ABOVE = 256 * 1024  # answer bytes buffered before the socket is no longer read
_NO_BODY = (204, 304)

Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One connection; one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, origin: Origin) -> None:
        self.loop = loop
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._new_exchange()
        self.in_use = False

    def _new_exchange(self) -> None:
        self._status = 0
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._until_close = False
        self._complete = False
        self._keep_alive = False
        self._failure: BaseException | None = None

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.in_use or self._complete:
            # Bytes nobody asked for (after an answer, or on an idle connection):
            # the next answer could not be told from them. Never reuse it.
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            err = httpx.RemoteProtocolError(f"malformed HTTP answer: {exc}")
            err.__cause__ = exc
            self._fail(err)

    def eof_received(self) -> bool | None:
        return False  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.in_use or self._complete or self._failure is not None:
            return
        head_in = self._head is not None and self._head.done()
        if exc is None and head_in and self._until_close:
            self._complete = True  # an answer without a length ends where the connection does
            self._wake()
            return
        what = "before the whole answer" if head_in else "without answering"
        err = httpx.ReadError(f"the server closed the connection {what}")
        err.__cause__ = exc or ConnectionResetError("connection closed by the server")
        self._fail(err)

    # -- httptools' callbacks -----------------------------------------------------------
    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._complete:  # a second answer to one request: no longer to be trusted
            self._keep_alive = False
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: the real one follows
            self._reason, self._headers = b"", []
            return
        self._status = status  # kept: the parser forgets it once the whole answer is in
        names = {n.lower() for n, _ in self._headers}
        self._until_close = (status not in _NO_BODY and b"content-length" not in names
                             and b"transfer-encoding" not in names)
        if self._head is not None and not self._head.done():
            self._head.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self._complete:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _PAUSE_ABOVE and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._head is None or not self._head.done() or self._complete:
            return  # the end of an interim (1xx) answer, or of one nobody asked for
        self._keep_alive = self._parser.should_keep_alive()  # read now: the parser resets after
        self._complete = True
        self._wake()

    # -- one exchange -------------------------------------------------------------------
    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = exc
        for fut in (self._head, self._waiter):
            if fut is not None and not fut.done():
                fut.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    @property
    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    @property
    def reusable(self) -> bool:
        # (paused: the reader stopped early on a large answer; the socket is not read)
        return self.usable and self._complete and self._keep_alive and self._failure is None and not self._paused

    async def send(self, data: bytes, read_timeout: float | None) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """Write one request; return status, reason and headers once the answer's head is in."""
        assert self.transport is not None
        self._new_exchange()
        self.in_use = True
        self._head = self.loop.create_future()
        self.transport.write(data)
        await self._wait(self._head, read_timeout)
        return self._status, self._reason, self._headers

    async def _wait(self, fut: asyncio.Future[None], timeout: float | None) -> None:
        timer = None if timeout is None else self.loop.call_later(timeout, self._time_out, fut)
        try:
            await fut
        finally:
            if timer is not None:
                timer.cancel()

    def _time_out(self, fut: asyncio.Future[None]) -> None:
        if not fut.done():
            self._fail(httpx.ReadTimeout("no data from the server within the read timeout"))

    async def body(self, read_timeout: float | None) -> AsyncIterator[bytes]:
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered <= _PAUSE_ABOVE // 2 and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                yield chunk
            elif self._complete:
                return
            elif self._failure is not None:
                raise self._failure
            else:
                self._waiter = self.loop.create_future()
                await self._wait(self._waiter, read_timeout)


class _Pool:
    """Idle connections per origin, and the slots that bound how many are in use."""

    def __init__(self, max_connections: int, keepalive_expiry: float) -> None:
        self.slots = asyncio.Semaphore(max_connections)
        self._expiry = keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open: set[_Connection] = set()

    async def acquire(self, timeout: float | None) -> None:
        """A slot for one exchange; waits at most ``timeout`` for one to come free."""
        if not self.slots.locked():
            await self.slots.acquire()  # a free slot: no pass of the event loop, no timer
            return
        try:
            async with asyncio.timeout(timeout):
                await self.slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection within the pool timeout") from None

    def idle(self, origin: Origin, now: float) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()  # the newest: the least likely to have been closed by the server
            if conn.usable and now - conn.idle_since < self._expiry:
                return conn
            self.drop(conn)
        return None

    def opened(self, conn: _Connection) -> None:
        self._open.add(conn)

    def release(self, conn: _Connection) -> None:
        """The exchange is over: keep the connection for the next one, or close it."""
        conn.in_use = False
        if conn.reusable:
            conn.idle_since = conn.loop.time()
            self._idle.setdefault(conn.origin, []).append(conn)
        else:
            self.drop(conn)
        self.slots.release()

    def drop(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)

    def close(self) -> None:
        for conn in self._open:
            conn.close()
        self._open.clear()
        self._idle.clear()


class _Answer(httpx.AsyncByteStream):
    """The answer's body; closing it hands the connection back to the pool."""

    def __init__(self, pool: _Pool, conn: _Connection, read_timeout: float | None) -> None:
        self._pool = pool
        self._conn = conn
        self._read_timeout = read_timeout
        self._released = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._conn.body(self._read_timeout)

    async def aclose(self) -> None:
        if not self._released:
            self._released = True
            self._pool.release(self._conn)


class Http11Transport(httpx.AsyncBaseTransport):
    """See the module's docstring. One per event loop (the pool is made on first use)."""

    def __init__(self, ssl_context: ssl.SSLContext, *, max_connections: int = 100,
                 keepalive_expiry: float = 5.0) -> None:
        self._ssl = ssl_context
        self._max = max(1, max_connections)
        self._expiry = keepalive_expiry
        self._pool: _Pool | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pool = self._pool
        if pool is None:
            pool = self._pool = _Pool(self._max, self._expiry)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        if request.method == "HEAD":  # its answer's length would be misread as a body's
            raise httpx.UnsupportedProtocol("HEAD requests are not supported by this transport")
        origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        data = _serialize(request)
        await pool.acquire(timeouts.get("pool"))
        try:
            loop = asyncio.get_running_loop()
            conn = pool.idle(origin, loop.time())
            if conn is None:
                conn = await self._connect(loop, origin, timeouts.get("connect"))
                pool.opened(conn)
            read_timeout = timeouts.get("read")
            try:
                status, reason, headers = await conn.send(data, read_timeout)
            except BaseException:
                conn.in_use = False
                pool.drop(conn)
                raise
        except BaseException:
            pool.slots.release()
            raise
        return httpx.Response(
            status, headers=headers, stream=_Answer(pool, conn, read_timeout),
            extensions={"reason_phrase": reason, "http_version": b"HTTP/1.1"},
        )

    async def _connect(self, loop: asyncio.AbstractEventLoop, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        conn = _Connection(loop, origin)
        tls = scheme == "https"
        try:
            async with asyncio.timeout(timeout):
                await loop.create_connection(
                    lambda: conn, host, port, ssl=self._ssl if tls else None, server_hostname=host if tls else None
                )
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(f"no connection to {host} within the connect timeout") from exc
        except OSError as exc:  # refused, DNS (gaierror), TLS (SSLError), unreachable ...
            conn.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return conn

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()


def _serialize(request: httpx.Request) -> bytes:
    """The request as sent: httpx.Request has added Host and Content-Length already."""
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path or b"/", b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    content = request.content  # the client sends bytes; a stream raises httpx.RequestNotRead
    if content:
        parts.append(content)
    return b"".join(parts)
