"""Responses that never arrive, or arrive broken: hang, reset, reset mid-body, drop."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mobitui.simulator import connection
from mobitui.simulator.waits import Waits

# Time for the headers and the first half of the body to reach the client
# before the reset, so the client really is mid-body when it comes.
_MID_BODY_PAUSE = 0.05


class NoAnswer(Response):
    """Base of the responses that send no status line."""

    def __init__(self) -> None:
        super().__init__(status_code=200)


class ResetResponse(NoAnswer):
    """TCP RST before any byte of the answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await connection.reset(scope, receive, send)


class DropResponse(NoAnswer):
    """Close the connection without answering (the server is stopping)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await connection.close(scope, receive, send)


class HangResponse(NoAnswer):
    """Never answer: wait until the client gives up or the server stops."""

    def __init__(self, waits: Waits):
        super().__init__()
        self._waits = waits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client_gone = asyncio.ensure_future(_disconnect(receive))
        server_stopping = asyncio.ensure_future(self._waits.sleep(None))
        try:
            done, _ = await asyncio.wait({client_gone, server_stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            client_gone.cancel()
            server_stopping.cancel()
        if client_gone not in done:
            await connection.close(scope, receive, send)


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class PartialBodyResponse(Response):
    """The headers of ``answer`` (its full Content-Length) and half its body, then RST."""

    def __init__(self, answer: Response):
        super().__init__(status_code=answer.status_code)
        self.body = answer.body
        self.raw_headers = answer.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        half = bytes(self.body[: len(self.body) // 2])
        await send({"type": "http.response.body", "body": half, "more_body": True})
        await connection.flush(scope)
        await asyncio.sleep(_MID_BODY_PAUSE)
        await connection.reset(scope, receive, send, started=True)
