"""The client's transport (httpcore's connections, our pool policy) against scripted servers on 127.0.0.1.

Each server here answers with exact bytes, so the framing cases (chunked, read
until close, interim answers, garbage) and the failures (reset, silence, a
closed keep-alive connection) are what the transport really meets.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable

import httpx
import pytest

from mobitui.core import errors
from mobitui.core.transport import HttpcoreTransport, TransportError

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"status": "ok"}'

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback server; counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.closed_by_server = asyncio.Event()

    async def __aenter__(self) -> Server:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            self._writers.append(writer)
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass  # the client went away, or the test is over
            finally:
                writer.close()
                self.closed_by_server.set()

        self._server = await asyncio.start_server(serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:  # ends the handlers still reading
            writer.transport.abort()
        await asyncio.sleep(0.01)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/status"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        request = head + (await reader.readexactly(length) if length else b"")
        self.requests.append(request)
        return request


def answering(*answers: bytes, then_close: bool = False) -> Callable[[Server], Handler]:
    """A handler that answers each request on a connection with the next of ``answers``."""

    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for answer in answers:
                await server.read_request(reader)
                writer.write(answer)
                await writer.drain()
            if not then_close:
                await reader.read()  # keep the connection until the client closes it

        return handle

    return make


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.005)


async def serve(make: Callable[[Server], Handler]) -> Server:
    server = Server(lambda r, w: asyncio.sleep(0))
    server.handler = make(server)
    return server


def transport(**kw: object) -> HttpcoreTransport:
    return HttpcoreTransport(ssl.create_default_context(), **kw)  # type: ignore[arg-type]


async def call(
    t: HttpcoreTransport, url: str, *, read: float = 2.0, pool: float = 2.0, body: bytes = b'{"msisdn": "254700000001"}'
) -> tuple[int, bytes, httpx.Headers]:
    request = httpx.Request(
        "POST",
        url,
        content=body,
        headers={"Content-Type": "application/json"},
        extensions={"timeout": {"connect": 2.0, "read": read, "pool": pool}},
    )
    response = await t.handle_async_request(request)
    try:
        data = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return response.status_code, data, response.headers


async def test_requests_go_out_whole_and_reuse_one_kept_alive_connection():
    async with await serve(answering(OK, OK, OK)) as server:
        t = transport()
        for _ in range(3):
            status, data, headers = await call(t, server.url)
            assert (status, data, headers["content-type"]) == (200, b'{"status": "ok"}', "application/json")
        await t.aclose()
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /status HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in first and b"\r\nContent-Length: 26\r\n" in first
    assert first.endswith(b'\r\n\r\n{"msisdn": "254700000001"}')


async def test_chunked_answer_and_an_interim_100_answer_are_read_whole():
    chunked = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
    )
    async with await serve(answering(chunked, OK)) as server:
        t = transport()
        assert (await call(t, server.url))[:2] == (200, b"hello, world")
        assert (await call(t, server.url))[:2] == (200, b'{"status": "ok"}')
        await t.aclose()
    assert server.connections == 1  # the chunked answer ended cleanly: the connection was reused


async def test_an_answer_without_a_length_ends_when_the_server_closes_and_is_not_reused():
    until_close = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"
    async with await serve(answering(until_close, then_close=True)) as server:
        t = transport()
        assert (await call(t, server.url))[:2] == (200, b"all of it")
        assert (await call(t, server.url))[:2] == (200, b"all of it")
        await t.aclose()
    assert server.connections == 2


async def test_connection_close_is_honoured():
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with await serve(answering(closing, closing)) as server:
        t = transport()
        await call(t, server.url)
        await call(t, server.url)
        await t.aclose()
    assert server.connections == 2


async def test_a_large_answer_is_read_whole_through_pauses():
    body = bytes(range(256)) * 4096  # 1 MiB: more than is buffered before reading pauses
    big = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    async with await serve(answering(big)) as server:
        t = transport()
        status, data, _ = await call(t, server.url)
        await t.aclose()
    assert status == 200 and data == body


async def test_reset_before_an_answer_is_a_read_error_classified_as_reset():
    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

        return handle

    async with await serve(make) as server:
        t = transport()
        with pytest.raises(TransportError) as caught:
            await call(t, server.url)
        await t.aclose()
    failure = errors.classify(caught.value, "127.0.0.1", 2.0, 2.0)
    assert failure.kind == "reset" and failure.sent is errors.Sent.MAYBE
    assert len(server.requests) == 1  # reported, never sent again


async def test_a_body_cut_short_is_an_error_not_a_short_answer():
    cut = b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"status"'
    async with await serve(answering(cut, then_close=True)) as server:
        t = transport()
        with pytest.raises(TransportError):
            await call(t, server.url)
        await t.aclose()


async def test_garbage_is_a_protocol_error():
    async with await serve(answering(b"SMTP ready\r\n\r\n")) as server:
        t = transport()
        with pytest.raises(TransportError) as caught:
            await call(t, server.url)
        await t.aclose()
    assert errors.classify(caught.value, "127.0.0.1", 2.0, 2.0).kind == "protocol"


async def test_silence_is_a_read_timeout_and_the_connection_is_dropped():
    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            await reader.read()  # never answers

        return handle

    async with await serve(make) as server:
        t = transport()
        with pytest.raises(TransportError) as caught:
            await call(t, server.url, read=0.2)
        assert errors.classify(caught.value, "127.0.0.1", 2.0, 0.2).kind == "read_timeout"
        with pytest.raises(TransportError):
            await call(t, server.url, read=0.2)
        await t.aclose()
    assert server.connections == 2 and len(server.requests) == 2


async def test_a_kept_alive_connection_the_server_closed_is_not_used_and_nothing_is_resent():
    async with await serve(answering(OK, then_close=True)) as server:
        t = transport()
        await call(t, server.url)
        await server.closed_by_server.wait()  # the server's close has been sent
        await call(t, server.url)
        await t.aclose()
    assert server.connections == 2 and len(server.requests) == 2


async def test_idle_connections_expire():
    async with await serve(answering(OK, OK)) as server:
        t = transport(keepalive_expiry=0.05)
        await call(t, server.url)
        await asyncio.sleep(0.1)
        await call(t, server.url)
        await t.aclose()
    assert server.connections == 2


async def test_connections_are_bounded_and_a_full_pool_times_out():
    gate = asyncio.Event()

    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                await server.read_request(reader)
                await gate.wait()
                writer.write(OK)
                await writer.drain()

        return handle

    async with await serve(make) as server:
        t = transport(max_connections=2)
        first = [asyncio.create_task(call(t, server.url)) for _ in range(2)]
        await until(lambda: len(server.requests) == 2)  # both slots hold a request
        with pytest.raises(TransportError) as caught:
            await call(t, server.url, pool=0.1)
        assert errors.classify(caught.value, "127.0.0.1", 2.0, 2.0).sent is errors.Sent.NO
        gate.set()
        assert [(await f)[0] for f in first] == [200, 200]
        assert (await call(t, server.url))[0] == 200  # the slots came back
        await t.aclose()
    assert server.connections == 2 and len(server.requests) == 3


async def test_refused_connection_says_nothing_was_sent():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        t = transport()
        with pytest.raises(TransportError) as caught:
            await call(t, f"http://127.0.0.1:{port}/status")
        await t.aclose()
    failure = errors.classify(caught.value, "127.0.0.1", 2.0, 2.0)
    assert failure.kind == "refused" and failure.sent is errors.Sent.NO


async def test_tls_failure_sends_nothing():
    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(OK)  # plain HTTP where the TLS handshake is expected
            await reader.read()

        return handle

    async with await serve(make) as server:
        t = transport()
        with pytest.raises(TransportError) as caught:
            await call(t, server.url.replace("http://", "https://"))
        await t.aclose()
    assert errors.classify(caught.value, "127.0.0.1", 2.0, 2.0).kind == "tls"
    assert server.requests == []


async def test_a_cancelled_request_gives_its_connection_and_slot_back():
    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            await reader.read()

        return handle

    async with await serve(make) as server:
        t = transport(max_connections=1)
        task = asyncio.create_task(call(t, server.url))
        await until(lambda: len(server.requests) == 1)  # the one slot holds it
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(TransportError):  # the one slot is free again
            await call(t, server.url, read=0.1, pool=0.1)
        await t.aclose()
    assert server.connections == 2  # the cancelled exchange's connection was not reused


async def test_the_client_reads_a_body_compressed_although_not_asked_for():
    import gzip

    from mobitui.core.client import MobivateClient
    from mobitui.simulator.demo import DEMO_API_KEY, demo_config

    answer = b'{"authenticated": true, "valid_msisdn": true, "valid_campaign": true, "state": "onhold"}'
    packed = gzip.compress(answer)
    gz = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(packed), packed)
    )
    async with await serve(answering(gz, OK.replace(b"ok", b"no"))) as server:
        config = demo_config(server.url.removesuffix("/status"))
        async with MobivateClient(config, DEMO_API_KEY) as client:
            r = await client.status(config.campaigns[0], "254700000101")
    assert r.state == "onhold" and r.exchanges[0].response_body == answer.decode()
    assert b"Accept-Encoding" not in server.requests[0]


async def test_an_answer_left_unread_does_not_leave_a_stalled_connection_behind():
    # An answer closed before it was read to its end: the connection's next bytes
    # would be the rest of it, so it must not be reused.
    body = b"x" * 300_000
    big = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                await server.read_request(reader)
                writer.write(big if len(server.requests) == 1 else OK)  # the first answer is large
                await writer.drain()

        return handle

    async with await serve(make) as server:
        t = transport()
        request = httpx.Request(
            "POST", server.url, content=b"{}", extensions={"timeout": {"connect": 2.0, "read": 1.0, "pool": 1.0}}
        )
        response = await t.handle_async_request(request)
        await asyncio.sleep(0.1)  # all of it arrives; none of it is read
        await response.aclose()
        assert (await call(t, server.url, read=1.0))[:2] == (200, b'{"status": "ok"}')
        await t.aclose()
    assert server.connections == 2


async def test_the_http_version_reported_is_the_servers():
    old = b'HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\n{"status": "ok"}'
    async with await serve(answering(old, then_close=True)) as server:
        t = transport()
        request = httpx.Request(
            "POST", server.url, content=b"{}", extensions={"timeout": {"connect": 2.0, "read": 2.0, "pool": 2.0}}
        )
        response = await t.handle_async_request(request)
        await response.aread()
        await response.aclose()
        await t.aclose()
    assert response.http_version == "HTTP/1.0" and response.reason_phrase == "OK"


async def test_a_stale_kept_alive_connection_is_named_and_maybe_sent():
    """The server reads the second request on a kept-alive connection, then closes without a word."""

    def make(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            writer.write(OK)
            await writer.drain()
            await server.read_request(reader)
            writer.transport.abort()

        return handle

    async with await serve(make) as server:
        t = transport()
        await call(t, server.url)
        with pytest.raises(TransportError) as caught:
            await call(t, server.url)
        await t.aclose()
    assert caught.value.reused and not caught.value.not_sent
    failure = errors.classify(caught.value, "127.0.0.1", 2.0, 2.0)
    assert failure.sent is errors.Sent.MAYBE and "Nothing was sent" not in failure.message
    assert failure.kind == "stale" and "Stale connection" in failure.message
    assert len(server.requests) == 2 and server.connections == 1


async def test_https_goes_through_a_proxy_tunnel_with_the_proxys_credentials_only(tmp_path):
    from test_transport_faults import _self_signed

    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    origin_heads: list[bytes] = []
    connects: list[bytes] = []

    async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        origin_heads.append(head)
        writer.write(OK)
        await writer.drain()
        await reader.read()

    origin_server = await asyncio.start_server(origin, "127.0.0.1", 0, ssl=tls)
    origin_port = origin_server.sockets[0].getsockname()[1]

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        connects.append(head)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", origin_port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))

    proxy_server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    proxy_port = proxy_server.sockets[0].getsockname()[1]
    try:
        t = HttpcoreTransport(
            ssl.create_default_context(cafile=str(cert)), proxy=f"http://ops:s3cret@127.0.0.1:{proxy_port}"
        )
        status, data, _ = await call(t, f"https://127.0.0.1:{origin_port}/status")
        await t.aclose()
    finally:
        proxy_server.close()
        origin_server.close()
    assert (status, data) == (200, b'{"status": "ok"}')
    assert connects[0].startswith(f"CONNECT 127.0.0.1:{origin_port} HTTP/1.1".encode())
    assert b"Proxy-Authorization: Basic b3BzOnMzY3JldA==" in connects[0]  # ops:s3cret, to the proxy
    assert origin_heads[0].startswith(b"POST /status HTTP/1.1") and b"Proxy-Authorization" not in origin_heads[0]


async def test_a_proxy_that_refuses_the_tunnel_is_named_and_nothing_was_sent():
    heads: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        t = HttpcoreTransport(ssl.create_default_context(), proxy=f"http://127.0.0.1:{port}")
        with pytest.raises(TransportError) as caught:
            await call(t, "https://127.0.0.1:9/status")  # never reached: the tunnel is refused
        await t.aclose()
    finally:
        server.close()
    assert caught.value.not_sent
    failure = errors.classify(caught.value, "127.0.0.1:9", 2.0, 2.0)
    assert failure.kind == "proxy" and failure.sent is errors.Sent.NO
    assert "407 Proxy Authentication Required" in failure.message and "Nothing was sent" in failure.message
    assert len(heads) == 1 and heads[0].startswith(b"CONNECT 127.0.0.1:9 HTTP/1.1")
