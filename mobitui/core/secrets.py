"""The gateway API key: ``$MOBITUI_API_KEY``, else the system keyring.

Keyring entry: service ``mobitui``, username the account_id. Every keyring call
runs in a thread with a deadline, so a locked keyring waiting for an unlock
prompt nobody can see (over SSH) cannot hang the tool. Where no backend works,
:class:`KeyringUnavailable` says so in one message with the way out. There is
no silent fallback to a plaintext file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from mobitui.core.recorder import unsafe_key

ENV_KEY = "MOBITUI_API_KEY"
SERVICE = "mobitui"
TIMEOUT = 5.0

T = TypeVar("T")

WAY_OUT = (
    "Either export MOBITUI_API_KEY in the shell that runs mobitui (from your secrets "
    "manager), or run mobitui where a keyring works (a desktop session with "
    "Secret Service/KWallet, macOS Keychain, Windows Credential Locker), or set "
    "PYTHON_KEYRING_BACKEND to a backend you trust."
)


class KeyringUnavailable(Exception):
    """No keyring backend can be used here; the message says the way out."""


class KeySource(StrEnum):
    """Where the API key came from. A ``StrEnum``: ``mobitui auth status`` prints the
    value (``source:   keyring``) and callers compare it with the bare word."""

    ENVIRONMENT = "environment"  # $MOBITUI_API_KEY
    KEYRING = "keyring"  # the system keyring
    DEMO = "demo"  # the simulator's built-in key (--demo)
    NONE = "none"  # no usable key; ``problem`` says why


@dataclass(frozen=True, slots=True)
class KeyLookup:
    key: str | None
    source: KeySource
    backend: str
    problem: str | None = None

    def __post_init__(self) -> None:
        # A bare word ("environment") is taken as the member it names (ValueError if none).
        object.__setattr__(self, "source", KeySource(self.source))

    @property
    def masked(self) -> str:
        return mask(self.key)


def mask(key: str | None) -> str:
    """Enough to tell two keys apart, never enough to use one."""
    if not key:
        return "(none)"
    tail = key[-4:] if len(key) >= 16 else ""
    return f"{'•' * 8}{tail} ({len(key)} characters)"


def _with_deadline(fn: Callable[[], T], what: str, timeout: float) -> T:
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - carried to the caller
            box["error"] = exc

    t = threading.Thread(target=run, name=f"keyring-{what}", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise KeyringUnavailable(
            f"The keyring did not answer within {timeout:g} s while trying to {what} "
            "(locked, or waiting for an unlock prompt that cannot be shown here). " + WAY_OUT
        )
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _backend():  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail

    kr = keyring.get_keyring()
    name = f"{type(kr).__module__}.{type(kr).__name__}"
    if isinstance(kr, fail.Keyring) or name == "keyring.backends.null.Keyring":
        raise KeyringUnavailable(
            "No usable keyring backend on this machine (typical on a headless server over SSH). " + WAY_OUT
        )
    chained = getattr(kr, "backends", None)
    if chained is not None and not chained:
        raise KeyringUnavailable("No usable keyring backend on this machine. " + WAY_OUT)
    if "plaintext" in name.lower() and not os.environ.get("PYTHON_KEYRING_BACKEND"):
        raise KeyringUnavailable(
            f"The only keyring backend is {name}, which keeps keys in a plaintext file; "
            "mobitui will not use it unless chosen explicitly. " + WAY_OUT
        )
    return kr, name


def backend_name(timeout: float = TIMEOUT) -> str:
    try:
        return _with_deadline(lambda: _backend()[1], "find a backend", timeout)
    except KeyringUnavailable:
        return "none usable"


def _keyring_call(action: Callable[[object], T], what: str, timeout: float) -> T:
    def run() -> T:
        kr, _ = _backend()
        try:
            return action(kr)
        except KeyringUnavailable:
            raise
        except Exception as exc:
            from keyring.errors import KeyringError, PasswordDeleteError

            if isinstance(exc, PasswordDeleteError):
                raise
            if isinstance(exc, KeyringError):
                raise KeyringUnavailable(f"The keyring refused to {what}: {exc}. " + WAY_OUT) from None
            raise KeyringUnavailable(
                f"The keyring backend failed to {what} ({type(exc).__name__}). " + WAY_OUT
            ) from None

    return _with_deadline(run, what, timeout)


def lookup(account_id: str, timeout: float = TIMEOUT) -> KeyLookup:
    """Where the key comes from. Never raises: problems are in ``.problem``."""
    env = os.environ.get(ENV_KEY)
    if env:
        why = unsafe_key(env)
        if why:
            return KeyLookup(
                None,
                KeySource.NONE,
                "not consulted ($MOBITUI_API_KEY is set)",
                f"$MOBITUI_API_KEY cannot be used: {why}.",
            )
        return KeyLookup(env.strip(), KeySource.ENVIRONMENT, "not consulted ($MOBITUI_API_KEY is set)")
    try:
        backend = _with_deadline(lambda: _backend()[1], "find a backend", timeout)
        key = _keyring_call(
            lambda kr: kr.get_password(SERVICE, account_id),  # type: ignore[attr-defined]
            "read the API key",
            timeout,
        )
    except KeyringUnavailable as exc:
        return KeyLookup(None, KeySource.NONE, "none usable", str(exc))
    if not key:
        return KeyLookup(
            None,
            KeySource.NONE,
            backend,
            f"No API key stored for account {account_id}. Set one with `mobitui auth set` or export MOBITUI_API_KEY.",
        )
    why = unsafe_key(key)
    if why:
        return KeyLookup(
            None,
            KeySource.NONE,
            backend,
            f"The stored API key cannot be used: {why}. Store the right one with `mobitui auth set`.",
        )
    return KeyLookup(key, KeySource.KEYRING, backend)


def store(account_id: str, key: str, timeout: float = TIMEOUT) -> str:
    """Store the key and read it back; returns the backend's name.

    Raises ValueError (empty, or :func:`~mobitui.core.recorder.unsafe_key`: too
    short or digits only, so it could not be kept out of logs safely) before
    anything is stored, and KeyringUnavailable when no backend works or the
    backend did not keep the key (a null backend accepts and forgets).
    """
    key = key.strip()
    if not key:
        raise ValueError("the API key is empty")
    why = unsafe_key(key)
    if why:
        raise ValueError(f"{why}; nothing was stored (is this really the API key?)")

    def set_and_read(kr: object) -> str | None:
        kr.set_password(SERVICE, account_id, key)  # type: ignore[attr-defined]
        return kr.get_password(SERVICE, account_id)  # type: ignore[attr-defined]

    back = _keyring_call(set_and_read, "store the API key", timeout)
    name = backend_name(timeout)
    if back != key:
        raise KeyringUnavailable(
            f"The keyring backend {name} accepted the key but did not keep it (reading it back "
            f"gave {'nothing' if not back else 'another value'}); nothing usable was stored. " + WAY_OUT
        )
    return name


def delete(account_id: str, timeout: float = TIMEOUT) -> bool:
    """Delete the stored key; False when there was none."""
    from keyring.errors import PasswordDeleteError

    try:
        _keyring_call(
            lambda kr: kr.delete_password(SERVICE, account_id),  # type: ignore[attr-defined]
            "delete the API key",
            timeout,
        )
    except PasswordDeleteError:
        return False
    return True
