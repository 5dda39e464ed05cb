"""Platform directories (XDG variables honoured on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "mobitui"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    """Where the journal lives; ``$MOBITUI_DATA_DIR`` overrides it."""
    override = os.environ.get("MOBITUI_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def state_dir() -> Path:
    """Small UI state (last campaign, recent numbers)."""
    override = os.environ.get("MOBITUI_DATA_DIR")
    if override:
        return Path(override).expanduser() / "state"
    return Path(platformdirs.user_state_dir(APP, appauthor=False))
