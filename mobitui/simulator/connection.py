"""Dropping a client's connection on purpose: a real TCP reset, or a plain close.

ASGI gives an application no handle on the connection, so the simulator's
outermost layer (:func:`remember_transport`) stores the transport in the scope
and the fault responses find it there.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, NoReturn

from starlette.types import Receive, Scope, Send

TRANSPORT_KEY = "mobitui.simulator.transport"
_DRAIN_LIMIT = 2.0  # seconds to wait for the kernel to take what was written


class ConnectionDropped(Exception):
    """Raised to drop a connection when the transport cannot be reached."""


def transport_of(send: Send) -> Any | None:
    """The asyncio transport behind uvicorn's raw ``send``, or None.

    uvicorn does not expose the transport to ASGI applications. Its ``send`` is
    a bound method of the per-request cycle object, which keeps the connection's
    transport in ``.transport``; this is the only place that relies on that
    detail. Under any other server (or a test transport) this returns None and
    the faults fall back to raising :class:`ConnectionDropped`.
    """
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is not None and hasattr(transport, "abort") and hasattr(transport, "get_extra_info"):
        return transport
    return None


def remember_transport(scope: Scope, send: Send) -> None:
    if scope["type"] == "http":
        scope[TRANSPORT_KEY] = transport_of(send)


async def _until_disconnected(receive: Receive) -> None:
    """Let the server notice the connection is gone, so it sends nothing more."""
    async with asyncio.timeout(1.0):
        while (await receive())["type"] != "http.disconnect":
            pass


async def flush(scope: Scope) -> None:
    """Wait until everything written so far has been handed to the kernel."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _DRAIN_LIMIT
    while transport.get_write_buffer_size() and loop.time() < deadline:
        await asyncio.sleep(0.01)


async def reset(scope: Scope, receive: Receive, send: Send, *, started: bool = False) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), whatever was sent so far."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        await _fallback_drop(send, started)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await _until_disconnected(receive)


async def close(scope: Scope, receive: Receive, send: Send, *, started: bool = False) -> None:
    """Close the connection normally (FIN) without answering."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        await _fallback_drop(send, started)
    transport.close()
    await _until_disconnected(receive)


async def _fallback_drop(send: Send, started: bool) -> NoReturn:
    # Without the transport: promise a body, then fail, so the server closes the
    # connection mid-response instead of answering an error page.
    if not started:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise ConnectionDropped("simulated connection drop")
