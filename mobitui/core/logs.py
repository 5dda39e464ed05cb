"""The debug log: the standard :mod:`logging` module, configured here and only here.

Off by default: nothing is written to disk and nothing reaches the terminal (the
console owns the screen; the CLI's stderr carries only its one-line messages).
``mobitui --debug`` or ``[logging] debug = true`` turns it on: every ``mobitui.*``
logger's records, DEBUG and up, go to ``debug.log`` in the state dir
(:func:`mobitui.core.paths.state_dir`), rotated at :data:`MAX_BYTES` with
:data:`BACKUPS` older files kept, created 0600 in a 0700 directory
(:mod:`mobitui.core.private`).

Redacted at the handler: each line, traceback included, goes through the same
redaction as every recorded exchange (:class:`~mobitui.core.recorder.Recorder`):
the ``PASSWORD`` parameter, the key segment of ``/api/doi/<account>/<key>/``, and
every key any recorder of this process was given, in every spelling and after
every decoding step (:meth:`Recorder.add_secret` registers keys here too). Control
characters from server text are escaped, so reading the file with ``cat`` or
``less`` cannot drive the terminal.

A bulk job's process (:mod:`mobitui.core.job_process`) writes to the same file: the
path reaches it through :data:`ENV_LOG`, and :class:`SharedRotatingFileHandler`
serialises writes and rotation between processes.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

from mobitui.core import paths, private
from mobitui.core.recorder import Recorder
from mobitui.core.secrets import ENV_KEY

MAX_BYTES = 2 * 1024 * 1024  # one file, bytes
BACKUPS = 3  # older files kept: debug.log.1 … debug.log.3; at most 8 MiB in all
ENV_LOG = "MOBITUI_DEBUG_LOG"  # the log's path, for a job's child process
LOGGER = "mobitui"
FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_handler: logging.Handler | None = None
_path: Path | None = None
# Redacts only, with every key this process has met (see Recorder.add_secret).
_redactor = Recorder.for_process()

# C0 controls (but tab and newline), DEL and C1 controls: shown as \xNN.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def add_secret(secret: str | None) -> None:
    """Mask ``secret`` in every later line of the debug log (any recorder's key is
    already). A key that cannot be redacted safely is left out: it is refused
    wherever it would be used (:func:`mobitui.core.recorder.unsafe_key`)."""
    try:
        _redactor.add_secret(secret)
    except ValueError:
        logger.debug("a key that cannot be redacted safely was not added to the log's redaction")


def redact(text: str) -> str:
    """``text`` as the debug log writes it: redacted like a recorded exchange (URL
    patterns, then every known key in every spelling and decoding), control
    characters escaped."""
    text = _redactor.redact(_redactor.redact_url(text))
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output (message, arguments, traceback, stack) is
    passed through :func:`redact`: what a record carries cannot reach the file
    unredacted, whatever the call site put in it."""

    def format(self, record: logging.LogRecord) -> str:
        # The rotating handler formats each record twice (to measure it, then to write
        # it): the redaction, the costly part, is done once.
        done = getattr(record, "_mobitui_line", None)
        if done is None:
            done = redact(super().format(record))
            record._mobitui_line = done
        return done


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A :class:`RotatingFileHandler` whose file is private (0600) and shared by
    the console and its bulk job's process.

    Owned here because the standard handler assumes one writing process (the
    logging cookbook says so): with two, each rotates on its own count and keeps
    writing into the file the other renamed away, so lines land in a rotated
    file or are lost to the next rotation. Each write here holds an exclusive
    ``flock`` on ``<file>.lock`` and reopens the file when another process has
    rotated it (its inode changed); rotation itself is the standard one.
    """

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS):
        private.make_dir(path.parent)
        private.touch(path)
        self.failures = 0  # lines that could not be written
        lock_path = path.with_name(path.name + ".lock")
        self._lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), private.FILE_MODE)
        os.fchmod(self._lock_fd, private.FILE_MODE)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=False)

    def _open(self):  # type: ignore[no-untyped-def]
        # os.open with the mode (and fchmod): never readable by others, whatever the umask.
        fd = os.open(
            self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), private.FILE_MODE
        )
        try:
            if os.fstat(fd).st_mode & 0o777 != private.FILE_MODE:
                os.fchmod(fd, private.FILE_MODE)
        except OSError:
            os.close(fd)
            raise
        return os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace")

    def _reopen_if_rotated(self) -> None:
        try:
            on_disk = os.stat(self.baseFilename).st_ino
        except FileNotFoundError:
            on_disk = None
        if self.stream is None or on_disk != os.fstat(self.stream.fileno()).st_ino:
            if self.stream is not None:
                self.stream.close()
            self.stream = self._open()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            import fcntl
        except ImportError:  # not Unix: the standard handler's behaviour, unserialised
            super().emit(record)
            return
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        except OSError:
            self.handleError(record)
            return
        try:
            self._reopen_if_rotated()
            super().emit(record)  # rolls over (under the lock) when the file is full
        except Exception:  # noqa: BLE001  logging's own contract: handleError decides
            self.handleError(record)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def handleError(self, record: logging.LogRecord) -> None:
        # The standard one prints "--- Logging error ---" and a traceback on stderr: over
        # the console's screen. A line that cannot be written (a full disk) is dropped.
        self.failures += 1

    def close(self) -> None:
        super().close()
        fd, self._lock_fd = self._lock_fd, -1
        if fd >= 0:
            os.close(fd)

    def doRollover(self) -> None:
        super().doRollover()
        for i in range(1, self.backupCount + 1):  # rotated files stay private
            try:
                os.chmod(f"{self.baseFilename}.{i}", private.FILE_MODE)
            except OSError:
                pass  # not there (yet): fewer rotations than backups


def default_path() -> Path:
    """Where the debug log is written: ``debug.log`` in the state dir."""
    return paths.state_dir() / "debug.log"


def current_path() -> Path | None:
    """The debug log's path when it is being written, else None."""
    return _path


def enable(path: Path | None = None) -> Path:
    """Start writing the debug log (idempotent) at ``path`` (default: :func:`default_path`)
    and return its path. Raises OSError when the file or its directory cannot be made."""
    global _handler, _path
    target = Path(path) if path is not None else default_path()
    with _lock:
        if _handler is not None and _path == target:
            return target
        handler = SharedRotatingFileHandler(target)
        handler.setFormatter(RedactingFormatter(FORMAT))
        handler.setLevel(logging.DEBUG)
        root = logging.getLogger(LOGGER)
        if _handler is not None:
            root.removeHandler(_handler)
            _handler.close()
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        # Ours only: a handler an embedding program put on the root logger would get
        # the records before redaction (the redaction is this handler's formatter).
        root.propagate = False
        _handler, _path = handler, target
    add_secret((os.environ.get(ENV_KEY) or "").strip())
    logger.debug("debug log started (pid %d)", os.getpid())
    return target


def start(say: Callable[[str], None]) -> Path | None:
    """Turn the debug log on for ``--debug`` or ``[logging] debug = true``: ``say``
    (the CLI's stderr line) is told its path once, or why it cannot be written, in
    which case mobitui carries on without it. Returns the path, or None."""
    if _path is not None:
        return _path
    target = default_path()
    try:
        path = enable(target)
    except OSError as exc:
        say(f"debug log: cannot write {target}: {exc.strerror or exc}; carrying on without it")
        return None
    say(f"debug log: {path}")
    return path


def disable() -> None:
    """Stop writing the debug log (tests; a console that turns it off)."""
    global _handler, _path
    with _lock:
        if _handler is None:
            return
        root = logging.getLogger(LOGGER)
        root.removeHandler(_handler)
        root.setLevel(logging.NOTSET)
        root.propagate = True
        try:
            _handler.close()
        except (OSError, ValueError):  # its last bytes cannot be written (a full disk): no log to say it in
            pass
        _handler, _path = None, None


def child_environment() -> dict[str, str]:
    """What a job's child process needs in its environment to write to the same log
    (nothing when the log is off)."""
    return {ENV_LOG: str(_path)} if _path is not None else {}


def enable_from_environment() -> Path | None:
    """In a job's child process: write to the host's log when it has one. A log that
    cannot be opened here is skipped (the job matters more than its log)."""
    value = os.environ.get(ENV_LOG)
    if not value:
        return None
    try:
        return enable(Path(value))
    except OSError:
        return None
