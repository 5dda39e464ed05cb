"""Running the simulator: in a background thread (tests, the TUI's demo) or in the foreground (CLI).

The listening socket is bound before uvicorn starts, so port 0 works and the
URL is known at once. Stopping first ends hanging and slow answers (see
:mod:`waits`), so it returns promptly even with hung requests in flight.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from mobitui.core.config import Config
from mobitui.simulator.app import SimulatorApp, build_app
from mobitui.simulator.demo import DEMO_API_KEY, demo_config
from mobitui.simulator.options import SimOptions
from mobitui.simulator.sockets import bind_socket, url_of
from mobitui.simulator.state import SimState
from mobitui.simulator.waits import Waits

GRACEFUL_SHUTDOWN_SECONDS = 1  # backstop only: hangs and slow answers are released first
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class _Uvicorn(uvicorn.Server):
    """uvicorn that ends the simulator's deliberate waits before its graceful shutdown."""

    def __init__(self, config: uvicorn.Config, waits: Waits):
        super().__init__(config)
        self._waits = waits

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._waits.release()
        await super().shutdown(sockets)


def _uvicorn(app: SimulatorApp, *, quiet_logging: bool) -> _Uvicorn:
    config = uvicorn.Config(
        app,
        http="httptools",
        loop="asyncio",
        ws="none",
        lifespan="off",
        access_log=False,
        server_header=False,  # no "server: uvicorn"; the fault pages set their own
        log_level="warning",
        # In-process, leave the host application's logging configuration alone.
        log_config=None if quiet_logging else uvicorn.config.LOGGING_CONFIG,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return _Uvicorn(config, app.sim.waits)


class SimulatorServer:
    """The simulator on a background thread with its own event loop.

    ``with SimulatorServer(config, key) as server: ... server.base_url ...``
    """

    def __init__(
        self,
        config: Config,
        api_key: str,
        options: SimOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sock: socket.socket | None = None,
    ):
        self.config = config
        self.app = build_app(config, api_key, options)
        self._sock = sock or bind_socket(host, port)
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @classmethod
    def demo(cls, options: SimOptions | None = None, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
        """The built-in demo (config and key from :mod:`demo`) pointed at this server."""
        sock = bind_socket(host, port)
        return cls(demo_config(url_of(sock)), DEMO_API_KEY, options, sock=sock)

    @property
    def sim(self) -> SimState:
        return self.app.sim

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def base_url(self) -> str:
        return url_of(self._sock)

    def start(self) -> SimulatorServer:
        if self._thread is not None:
            raise RuntimeError("the simulator server is already started")
        self._server = _uvicorn(self.app, quiet_logging=True)
        self._thread = threading.Thread(target=self._run, name=f"mobitui-simulator:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the simulator did not start: {self._error or 'timed out'}")
            time.sleep(0.005)
        return self

    def _run(self) -> None:
        assert self._server is not None
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # noqa: BLE001  reported by start(); a daemon thread has no one else to tell
            self._error = exc

    def stop(self) -> None:
        """Stop serving; returns within about a second, hung requests included."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        self._sock.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_forever(
    config: Config,
    api_key: str,
    options: SimOptions | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    sock: socket.socket | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM; returns normally then."""
    sock = sock or bind_socket(host, port)
    app = build_app(config, api_key, options)
    server = _uvicorn(app, quiet_logging=False)
    if on_ready is not None:
        on_ready(url_of(sock))  # the socket is already listening: connections queue
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the
        # signal to the previous handler: KeyboardInterrupt either way.
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        sock.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
