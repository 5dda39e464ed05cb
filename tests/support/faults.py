"""Journal faults made real: a lock held by another connection, a tiny file
system that fills up, one remounted read-only. The mounts need root (the test
machines run as root); elsewhere those tests are skipped."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def held_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the journal's write lock (BEGIN EXCLUSIVE)."""
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


class Mount:
    def __init__(self, path: Path):
        self.path = path

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)


@contextmanager
def tmpfs(where: Path, size: str = "64k") -> Iterator[Mount]:
    """A tmpfs of ``size`` mounted at ``where`` (made), unmounted after."""
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)], capture_output=True, text=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield Mount(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
