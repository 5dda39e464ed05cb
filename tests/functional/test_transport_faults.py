"""The client end to end against loopback servers that misbehave the way real ones do.

Each server is scripted in bytes and counts what it received; each test asserts that
count and the words the operator is given (issue 12; issue 11 points 4 and 6).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from mobitui.core.client import MobivateClient, Outcome
from mobitui.core.config import Config
from mobitui.simulator.demo import DEMO_API_KEY, demo_config

MT = b"MT-0123456789abcdef0123456789abcdef"
STATUS = b'{"authenticated": true, "valid_msisdn": true, "valid_campaign": true, "state": "active"}'
NUMBER = "254700000101"

Handler = Callable[["Scripted", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def answer(body: bytes, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n%s" % (status, len(body), extra, body)


class Scripted:
    """A server on 127.0.0.1 (optionally TLS) that records each request head it reads."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.requests: list[bytes] = []
        self.connections = 0
        self.closed = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> Scripted:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            self._writers.append(writer)
            try:
                await self.handler(self, reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, ssl.SSLError):
                pass
            finally:
                writer.close()
                try:
                    await writer.wait_closed()  # the FIN has gone out
                except (ConnectionError, ssl.SSLError):
                    pass
                self.closed += 1

        self._server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for w in self._writers:
            w.transport.abort()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    def base(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        request = head + (await reader.readexactly(length) if length else b"")
        self.requests.append(request)
        return request


def config_for(base: str, **network: object) -> Config:
    data = demo_config(base).model_dump(mode="python")
    data["network"].update({"connect_timeout": 2.0, "read_timeout": 2.0, "status_attempts": 1, **network})
    return Config.model_validate(data)


def campaign(cfg: Config, route: str):  # type: ignore[no-untyped-def]
    return next(c for c in cfg.campaigns if c.unsubscribe_via.value == route)


async def until(predicate: Callable[[], bool], seconds: float = 5.0, dbg=None) -> None:
    """Poll a server's state with a deadline (never a sleep as a negative check)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not predicate():
        assert loop.time() < end, (
            "the server never got there",
            dbg and (dbg[0], dbg[1].closed, dbg[1].connections, len(dbg[1].requests)),
        )
        await asyncio.sleep(0.005)


# -- keep-alive, then the server closes ----------------------------------------------------
def keep_alive_then_close(delay: float) -> Handler:
    async def handle(server: Scripted, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(MT, extra=b"Connection: keep-alive\r\nContent-Type: text/plain\r\n"))
        await writer.drain()
        if delay:
            await asyncio.sleep(delay)

    return handle


@pytest.mark.parametrize("delay", [0.0, 0.02], ids=["immediately", "20ms-later"])
async def test_a_server_that_closes_kept_alive_connections_gets_every_stop_once(delay):
    """'Connection: keep-alive', then the server closes: no stop may fail on a dead connection."""
    n = 100 if delay == 0 else 30
    async with Scripted(keep_alive_then_close(delay)) as server:
        cfg = config_for(server.base())
        results = []
        async with MobivateClient(cfg, DEMO_API_KEY) as client:
            for i in range(n):
                results.append(await client.unsubscribe(campaign(cfg, "mt-stop"), NUMBER))
                if delay:  # the next stop goes out once the server has closed the last connection
                    await until(lambda i=i: server.closed >= i + 1, 5.0, (i, server))
    assert [r.outcome for r in results] == [Outcome.OK] * n, {r.error for r in results}
    assert len(server.requests) == n  # each stop reached the server, exactly once


# -- a head without end ------------------------------------------------------------------------
async def test_headers_without_end_are_cut_off_and_named():
    sent = 0

    async def handle(server: Scripted, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        while sent < 64 * 1024 * 1024:  # bounded: the client must stop reading long before
            line = b"X-Padding: " + b"a" * 1000 + b"\r\n"
            writer.write(line)
            sent += len(line)
            await writer.drain()

    async with Scripted(handle) as server:
        cfg = config_for(server.base())
        async with MobivateClient(cfg, None) as client:
            r = await client.status(campaign(cfg, "subscription-api"), NUMBER)
    assert r.outcome is Outcome.FAILED and "Answer head too large" in r.error
    assert len(server.requests) == 1 and sent < 16 * 1024 * 1024


# -- Happy Eyeballs ----------------------------------------------------------------------------
async def test_a_dead_ipv6_address_falls_back_to_ipv4(monkeypatch):
    """The name resolves to ::1 first, where SYNs go unanswered (a full backlog), then
    127.0.0.1: the request must reach the IPv4 server well within the connect timeout."""
    try:
        dead = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        dead.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        dead.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    port = dead.getsockname()[1]
    dead.listen(0)
    fillers = []
    for _ in range(4):  # fill the backlog: further SYNs to [::1]:port are dropped
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("::1", port))
        fillers.append(s)

    async def handle(server: Scripted, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(STATUS, extra=b"Content-Type: application/json\r\n"))
        await writer.drain()

    real = socket.getaddrinfo

    def resolve(host, *args, **kw):  # type: ignore[no-untyped-def]
        if host in ("dual.mobitui.test", b"dual.mobitui.test"):
            p = args[0] if args else kw.get("port")
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", int(p), 0, 0)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(p))),
            ]
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    v4 = socket.socket()
    try:
        v4.bind(("127.0.0.1", port))
    except OSError:
        pytest.skip("the IPv6 port is taken on IPv4")
    v4.listen(16)
    server = Scripted(handle)
    try:
        server._server = await asyncio.start_server(lambda r, w: server.handler(server, r, w), sock=v4)
        cfg = config_for(f"http://dual.mobitui.test:{port}", connect_timeout=3.0)
        async with MobivateClient(cfg, None) as client:
            r = await client.status(campaign(cfg, "subscription-api"), NUMBER)
    finally:
        await server.__aexit__()
        for s in fillers:
            s.close()
        dead.close()
    assert r.outcome is Outcome.OK, r.error
    assert len(server.requests) == 1


# -- redirects and HTTP status versus gateway codes (issue 11.6) ---------------------------
def one_answer(raw: bytes) -> Handler:
    async def handle(server: Scripted, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(raw)
        await writer.drain()

    return handle


@pytest.mark.parametrize("route", ["mt-stop", "doi"])
async def test_a_redirect_says_where_it_points_and_is_not_followed(route):
    moved = b"https://moved.example/srs/api/sendsms?PASSWORD=" + DEMO_API_KEY.encode()
    raw = answer(b"", b"301 Moved Permanently", b"Location: " + moved + b"\r\n")
    async with Scripted(one_answer(raw)) as server:
        cfg = config_for(server.base())
        async with MobivateClient(cfg, DEMO_API_KEY) as client:
            r = await client.unsubscribe(campaign(cfg, route), NUMBER)
    # The stop reached the server, which may have acted before redirecting.
    assert r.outcome is Outcome.UNKNOWN and "Outcome unknown" in r.error
    assert "redirect to https://moved.example/" in r.error and "not follow" in r.error
    assert "endpoints." in r.error and "invalid username" not in r.error
    assert DEMO_API_KEY not in r.error
    assert len(server.requests) == 1 and server.connections == 1  # nothing went to moved.example


async def test_a_proxys_http_501_is_not_a_gateway_code():
    raw = answer(
        b"<html><title>501 Not Implemented</title></html>", b"501 Not Implemented", b"Content-Type: text/html\r\n"
    )
    async with Scripted(one_answer(raw)) as server:
        cfg = config_for(server.base())
        async with MobivateClient(cfg, DEMO_API_KEY) as client:
            r = await client.unsubscribe(campaign(cfg, "mt-stop"), NUMBER)
    assert "delivery to the mobile network" not in r.error and "gateway code" not in r.error
    assert "501" in r.error and r.outcome is Outcome.UNKNOWN
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("body", "outcome", "words"),
    [
        (b'{"0": "ok"}', Outcome.OK, None),
        (b'{"error": "Account suspended by billing"}', Outcome.FAILED, "Account suspended by billing"),
    ],
    ids=["code-0-is-success", "error-keeps-the-servers-words"],
)
async def test_a_200_is_read_by_its_body(body, outcome, words):
    raw = answer(body, extra=b"Content-Type: application/json\r\n")
    async with Scripted(one_answer(raw)) as server:
        cfg = config_for(server.base())
        async with MobivateClient(cfg, DEMO_API_KEY) as client:
            r = await client.unsubscribe(campaign(cfg, "doi"), NUMBER)
    assert r.outcome is outcome, r.error
    if words:
        assert words in r.error
    assert len(server.requests) == 1


# -- too slow, mislabelled ---------------------------------------------------------------------
async def test_an_answer_dribbled_a_byte_at_a_time_is_too_slow_and_maybe_sent():
    async def handle(server: Scripted, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
        for _ in range(200):  # each byte inside the read timeout; the whole far beyond the deadline
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.1)

    async with Scripted(handle) as server:
        cfg = config_for(server.base(), connect_timeout=0.5, read_timeout=0.5)
        async with MobivateClient(cfg, None) as client:
            r = await client.unsubscribe(campaign(cfg, "subscription-api"), NUMBER)
    assert r.outcome is Outcome.UNKNOWN
    assert "Answer too slow" in r.error and "TimeoutError" not in r.error
    assert len(server.requests) == 1


async def test_a_plain_body_labelled_gzip_is_named_as_mislabelled():
    raw = answer(STATUS, extra=b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n")
    async with Scripted(one_answer(raw)) as server:
        cfg = config_for(server.base(), status_attempts=3)
        async with MobivateClient(cfg, None) as client:
            r = await client.status(campaign(cfg, "subscription-api"), NUMBER)
    assert r.outcome is Outcome.FAILED
    assert "Mislabelled answer" in r.error and "DecodingError" not in r.error
    assert len(server.requests) == 1  # not retried: the same answer would come again


# -- TLS garbage after the request (issue 11.4) ----------------------------------------------
def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.parametrize("route", ["subscription-api", "mt-stop"])
async def test_tls_garbage_after_the_request_is_maybe_sent_never_nothing_sent(tmp_path, route):
    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    async def handle(server: Scripted, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        raw = writer.transport.get_extra_info("socket")
        # Bytes that are no TLS record, on the socket under the TLS layer.
        os.write(raw.fileno(), b"\x17\x03\x03\x00\x10" + b"garbage-not-tls!" * 4)
        await asyncio.sleep(1)

    async with Scripted(handle, tls=tls) as server:
        cfg = config_for(server.base("https"), ca_bundle=str(cert))
        async with MobivateClient(cfg, DEMO_API_KEY) as client:
            r = await client.unsubscribe(campaign(cfg, route), NUMBER)
    assert len(server.requests) == 1  # the unsubscribe reached the server
    assert r.outcome is Outcome.UNKNOWN, r.error
    assert "Nothing was sent" not in r.error and "TLS" in r.error and "Outcome unknown" in r.error
