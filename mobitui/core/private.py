"""Files and directories only their owner can read: 0700 directories, 0600 files.

Whatever the umask: modes are set with ``os.open``'s mode *and* ``fchmod`` (the
umask only ever removes bits), so a file is never readable by others, not even
for the instant between its creation and a later ``chmod``. The journal, its
WAL and SHM, exports, saved exchanges and the console's recent numbers all hold
MSISDNs, which are personal data.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

logger = logging.getLogger(__name__)
DIR_MODE = 0o700
FILE_MODE = 0o600
T = TypeVar("T")


def make_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) 0700; an existing directory of ours is
    brought to 0700 as well. Raises OSError."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            pass
    if (os.stat(path).st_mode & 0o777) != DIR_MODE and os.stat(path).st_uid == os.geteuid():
        os.chmod(path, DIR_MODE)


def touch(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist; make an existing one 0600.
    Raises OSError.

    An existing file is never opened: it may be an SQLite database, WAL or SHM that
    this process already has open, and closing *any* descriptor of a file drops
    every POSIX lock the process holds on it (https://www.sqlite.org/howtocorrupt.html,
    section 2.2). Another process would then take itself for the journal's last
    user and delete the WAL under our open connection.
    """
    for _ in range(5):  # a file that goes away meanwhile (a log rotated) is created again
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
        except FileExistsError:
            try:
                mode = os.stat(path).st_mode & 0o777
            except FileNotFoundError:
                continue
            if not os.access(path, os.W_OK):  # what opening it for writing would have said
                if not os.path.lexists(path):
                    continue
                read_only_fs = os.statvfs(path.parent).f_flag & os.ST_RDONLY
                code = errno.EROFS if read_only_fs else errno.EACCES
                raise OSError(code, os.strerror(code), str(path)) from None
            if mode != FILE_MODE:
                os.chmod(path, FILE_MODE)
            return
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
        return
    raise OSError(errno.EAGAIN, "created and removed again by another process, five times", str(path))


def open_new(path: Path) -> int:
    """A file descriptor to write ``path`` from scratch, 0600 (truncated if it exists).
    Raises OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_atomically(path: Path, write: Callable[[TextIO], T], newline: str | None = None) -> T:
    """Write ``path`` whole, 0600, through a temporary file beside it and a rename (a
    reader never sees half a file): ``write(fh)`` fills it, its result is returned.
    ``newline`` as for :func:`open` (``""`` for the csv module). Raises OSError."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(open_new(tmp), "w", encoding="utf-8", newline=newline) as fh:
            result = write(fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:  # best effort: the write's own error is the one raised
            logger.debug("could not remove %s", tmp, exc_info=True)
        raise
    return result


def write_text(path: Path, text: str) -> None:
    """Write ``path`` whole and private (see :func:`write_atomically`). Raises OSError."""
    write_atomically(path, lambda fh: fh.write(text))
