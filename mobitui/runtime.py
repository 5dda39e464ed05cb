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
    _key: secrets.KeyLookup | None = field(default=None, repr=False)

    @property
    def journal_path(self) -> Path:
        return journal_mod.default_path(self.demo)

    def key(self) -> secrets.KeyLookup:
        """The API key and where it came from (keyring calls are bounded in time)."""
        if self._key is None:
            if self.demo:
                from mobitui.simulator.demo import DEMO_API_KEY

                self._key = secrets.KeyLookup(DEMO_API_KEY, "demo", "not consulted (demo)")
            else:
                self._key = secrets.lookup(self.config.account.account_id)
        return self._key

    def open_journal(self) -> journal_mod.Journal:
        return journal_mod.Journal(self.journal_path)

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()  # type: ignore[attr-defined]
            self.simulator = None


def open_runtime(config_path: str | None, demo: bool) -> Runtime:
    """Load the config (raises ConfigError), or start the demo simulator."""
    if demo:
        from mobitui.simulator.server import SimulatorServer

        server = SimulatorServer.demo().start()
        return Runtime(server.config, None, demo=True, simulator=server)
    path, _ = config_mod.resolve_path(config_path)
    return Runtime(config_mod.load(config_path), path)
