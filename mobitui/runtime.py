"""What a run needs: the config, the API key, the journal, and in demo mode the
simulator serving them. Shared by the console and the headless CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mobitui.core import config as config_mod
from mobitui.core import journal as journal_mod
from mobitui.core import secrets
from mobitui.core.config import Config


@dataclass
class Runtime:
    config: Config
    config_path: Path | None
    demo: bool = False
    simulator: object | None = None  # SimulatorServer in demo mode
    _socket: object | None = field(default=None, repr=False)  # bound, not yet served
    # A key already found (tests, the showcase, benchmarks); otherwise looked up on first use.
    key_lookup: secrets.KeyLookup | None = field(default=None, repr=False)

    @property
    def journal_path(self) -> Path:
        return journal_mod.default_path(self.demo)

    def key(self) -> secrets.KeyLookup:
        """The API key and where it came from (keyring calls are bounded in time)."""
        if self.key_lookup is None:
            if self.demo:
                from mobitui.simulator.demo import DEMO_API_KEY

                self.key_lookup = secrets.KeyLookup(DEMO_API_KEY, secrets.KeySource.DEMO, "not consulted (demo)")
            else:
                self.key_lookup = secrets.lookup(self.config.account.account_id)
        return self.key_lookup

    def open_journal(self, read_only: bool = False) -> journal_mod.Journal:
        """The journal, for this thread (raises JournalFault); ``read_only`` to read
        one that cannot be written here."""
        return journal_mod.Journal(self.journal_path, read_only=read_only)

    def ensure_started(self) -> None:
        """Serve the demo simulator on its bound socket (no-op otherwise)."""
        if self._socket is None:
            return
        from mobitui.simulator.demo import DEMO_API_KEY
        from mobitui.simulator.server import SimulatorServer

        sock, self._socket = self._socket, None
        self.simulator = SimulatorServer(self.config, DEMO_API_KEY, sock=sock).start()  # type: ignore[arg-type]

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()  # type: ignore[attr-defined]
            self.simulator = None
        if self._socket is not None:
            self._socket.close()  # type: ignore[attr-defined]
            self._socket = None


def _operator_config(config_path: str | None) -> Config | None:
    """The operator's own config, for the demo; None when there is none or it is
    not valid (the demo must start on any machine)."""
    try:
        return config_mod.load(config_path)
    except config_mod.ConfigError:
        return None


def open_runtime(config_path: str | None, demo: bool, start: bool = True) -> Runtime:
    """Load the config (raises ConfigError), or set up the demo.

    In demo mode the simulator's socket is bound at once (so its URL is known
    and early requests queue), but the server itself starts in
    :meth:`Runtime.ensure_started`, which the console calls after its first
    frame; ``start=True`` does it here.
    """
    if demo:
        from mobitui.simulator.demo import demo_config
        from mobitui.simulator.sockets import bind_socket, url_of

        sock = bind_socket("127.0.0.1", 0)
        cfg = demo_config(url_of(sock))
        own = _operator_config(config_path)
        if own is not None:  # the operator's keys, theme, read-only and debug log also hold in the demo
            cfg = cfg.model_copy(update={"ui": own.ui, "logging": own.logging})
        rt = Runtime(cfg, None, demo=True, _socket=sock)
    else:
        path, _ = config_mod.resolve_path(config_path)
        rt = Runtime(config_mod.load(config_path), path)
    if start:
        rt.ensure_started()
    return rt
