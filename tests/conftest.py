"""Fixtures shared by the test files.

* Every test runs in an isolated environment: XDG directories and the mobitui
  data directory under ``tmp_path / "env"``, no $MOBITUI_API_KEY or $MOBITUI_CONFIG.
* ``simulator``: the demo simulator on 127.0.0.1 (one server for the session,
  its state reset before each test). ``sim_config``: the demo config pointed at it.
* ``make_simulator(**options)``: a dedicated demo simulator with SimOptions,
  stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mobitui.core.config import Config
from mobitui.simulator import SimOptions, SimulatorServer


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = tmp_path / "env"
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = root / name.lower()
        path.mkdir(parents=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.delenv("MOBITUI_API_KEY", raising=False)
    monkeypatch.delenv("MOBITUI_CONFIG", raising=False)
    data = root / "mobitui-data"
    data.mkdir()
    monkeypatch.setenv("MOBITUI_DATA_DIR", str(data))


@pytest.fixture(scope="session")
def simulator_session() -> Iterator[SimulatorServer]:
    with SimulatorServer.demo() as server:
        yield server


@pytest.fixture
def simulator(simulator_session: SimulatorServer) -> SimulatorServer:
    """The session's demo simulator, with its state and log reset for this test."""
    simulator_session.sim.reset()
    return simulator_session


@pytest.fixture
def sim_config(simulator: SimulatorServer) -> Config:
    """The demo config, its endpoints pointing at ``simulator``."""
    return simulator.config


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., SimulatorServer]]:
    servers: list[SimulatorServer] = []

    def make(**options: object) -> SimulatorServer:
        server = SimulatorServer.demo(SimOptions(**options)).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
