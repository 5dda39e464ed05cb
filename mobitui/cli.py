"""The ``mobitui`` command: the console by default, headless subcommands for scripts.

Exit codes: 0 all succeeded; 1 any failed (an invalid input line, or an
unsubscribe whose outcome is unknown, counts); 2 a usage or configuration error,
or a journal that cannot be used (one message naming the problem, no
traceback; nothing was sent); 3 the journal could not record what happened
(each number's line still says what the server answered: do not run it
again); 130 interrupted or cancelled (the job is kept in the journal:
`mobitui resume JOB`); 141 the output was closed early (`mobitui jobs | head`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from mobitui import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_JOURNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader has gone

logger = logging.getLogger(__name__)


class UsageError(Exception):
    """A problem with how mobitui was called or configured."""


def _common(p: argparse.ArgumentParser, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    p.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $MOBITUI_CONFIG, else the user config dir)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="run against the built-in simulator with a demo account (no real traffic)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="refuse every unsubscribe, single, bulk or resumed (shadowing, training); also ui.read_only = true",
    )
    p.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="write a rotating, redacted debug log in the state dir (its path is said on "
        "stderr); also logging.debug = true",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mobitui",
        description="Operator console for the Mobivate subscription APIs. Without a command, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"mobitui {__version__}")
    _common(parser, top=True)
    parser.add_argument("--campaign", metavar="NAME_OR_ID", help="preselect a campaign in the console")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for name, helptext in (
        ("status", "check the subscription state of numbers"),
        ("unsubscribe", "unsubscribe numbers via the campaign's route"),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        _common(p, top=False)
        p.add_argument("--campaign", required=True, metavar="NAME_OR_ID")
        p.add_argument("--json", action="store_true", help="one JSON object per line per MSISDN")
        p.add_argument(
            "--concurrency", type=int, metavar="N", help="requests in flight at once (default: bulk.concurrency)"
        )
        p.add_argument(
            "--file",
            metavar="PATH|-",
            help="read numbers from a file, or - for stdin: one per "
            "line, or a CSV/TSV export (UTF-8 or UTF-16; a header row is skipped)",
        )
        p.add_argument(
            "--column",
            metavar="NAME|N",
            help="the column holding the numbers, by its header "
            "name or 1-based position (default: the field that is a phone number)",
        )
        if name == "unsubscribe":
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        p.add_argument("--export", metavar="PATH", help="also write the results to PATH (.csv or .jsonl)")
        p.add_argument("msisdns", nargs="*", metavar="MSISDN")

    jobs = sub.add_parser("jobs", help="list bulk jobs (newest first), interrupted ones included")
    _common(jobs, top=False)
    jobs.add_argument("--json", action="store_true", help="one JSON object per line per job")
    jobs.add_argument("--limit", type=int, default=50)

    resume = sub.add_parser(
        "resume",
        help="resume an interrupted or cancelled bulk job",
        description="Resume a bulk job: numbers done are not sent again; numbers whose unsubscribe "
        "outcome is unknown are re-checked by status first and sent only if still subscribed.",
    )
    _common(resume, top=False)
    resume.add_argument("job", type=int, metavar="JOB")
    resume.add_argument("--yes", action="store_true", help="do not ask for confirmation (unsubscribe jobs)")
    resume.add_argument("--json", action="store_true", help="one JSON object per line per MSISDN")
    resume.add_argument("--concurrency", type=int, metavar="N", help="default: the job's own")
    resume.add_argument("--export", metavar="PATH", help="also write the results to PATH (.csv or .jsonl)")

    auth = sub.add_parser("auth", help="manage the API key in the system keyring")
    _common(auth, top=False)
    auth_sub = auth.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    for action, helptext in (
        ("set", "store the key (prompted without echo, or read from stdin)"),
        ("status", "where the key comes from, masked, and the keyring backend"),
        ("delete", "remove the key from the keyring"),
    ):
        _common(auth_sub.add_parser(action, help=helptext), top=False)

    hist = sub.add_parser("history", help="the journal of one number, newest first")
    _common(hist, top=False)
    hist.add_argument("msisdn", metavar="MSISDN")
    hist.add_argument("--json", action="store_true")
    hist.add_argument("--limit", type=int, default=50)
    hist.add_argument(
        "--all", action="store_true", help="every row: do not merge repeated status checks that saw the same"
    )

    sub.add_parser("config-example", help="print an example config.toml")

    from mobitui.simulator import cli as sim_cli

    sim = sub.add_parser(
        "simulator",
        help="run the built-in Mobivate simulator",
        description=sim_cli.DESCRIPTION,
        epilog=sim_cli.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim_cli.add_arguments(sim)
    return parser


# -- helpers -------------------------------------------------------------------


def _err(msg: str) -> None:
    print(f"mobitui: {msg}", file=sys.stderr)


def _runtime(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from mobitui.core import logs
    from mobitui.runtime import open_runtime

    rt = open_runtime(getattr(args, "config", None), bool(getattr(args, "demo", False)))
    if rt.config.logging.debug:
        logs.start(_err)
    return rt


def _jobs(args: argparse.Namespace, rt):  # type: ignore[no-untyped-def]
    """The jobs service of this run: --read-only or ui.read_only refuse unsubscribe jobs."""
    from mobitui.core.job_service import JobService

    return JobService(
        rt.config,
        rt.journal_path,
        demo=rt.demo,
        read_only=bool(getattr(args, "read_only", False) or rt.config.ui.read_only),
    )


def _allowed(jobs, operation, job_id: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Raise UsageError with the read-only message when the job may not run."""
    message = jobs.refusal(operation, job_id)
    if message is not None:
        raise UsageError(message)


def _read_inputs(args: argparse.Namespace, stdin: TextIO) -> str | bytes:
    """The numbers given: command-line arguments one per line, then the file's bytes
    (decoded by :func:`mobitui.core.paste.decode`, which finds the encoding)."""
    from mobitui.core.paste import decode

    data: bytes | str | None = None
    if args.file:
        if args.file == "-":
            buffer = getattr(stdin, "buffer", None)
            data = buffer.read() if buffer is not None else stdin.read()
        else:
            try:
                with open(args.file, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    if not args.msisdns and not data:
        raise UsageError("no numbers given: pass MSISDNs or --file PATH|-")
    if not args.msisdns:
        return data  # type: ignore[return-value]
    given = "\n".join(args.msisdns)
    if not data:
        return given
    return given + "\n" + (decode(data)[0] if isinstance(data, bytes) else data)


_SHOWN_OTHER = 5


class _Where:
    """Names a line of the input as the operator gave it. The numbers given as
    arguments come first, one line each (:func:`_read_inputs`): those are
    "argument N"; the lines of the file or stdin after them are "line N" of it."""

    def __init__(self, arguments: list[str]) -> None:
        self._argument_of: list[int] = []  # input line - 1 -> argument number (1-based)
        for n, value in enumerate(arguments, 1):
            self._argument_of += [n] * max(1, len(value.splitlines()))  # as paste.read splits them

    def __call__(self, line: int) -> str:
        if 1 <= line <= len(self._argument_of):
            return f"argument {self._argument_of[line - 1]}"
        return f"line {line - len(self._argument_of)}"


def _report_input(table, source: str, where: _Where) -> None:  # type: ignore[no-untyped-def]
    """Say on stderr how the input was read: its encoding, the header row skipped,
    the column taken, fields that are not numbers, numbers rejected (with the reason),
    numbers read from an unusual form, and duplicates dropped (sent once). Each is
    placed by ``where``: "argument N" or "line N" of the file or stdin."""
    from mobitui.core.msisdn import Verdict
    from mobitui.core.text import inert

    if table.encoding not in ("UTF-8", "text"):
        _err(f"input: read {source} as {table.encoding}")
    if table.header is not None:
        line, cells = table.header
        _err(f"input {where(line)}: header row skipped: {inert(', '.join(cells), 120)}")
    if table.column is not None:
        name = f" ({inert(table.column_name, 40)})" if table.column_name else ""
        _err(f"input: numbers taken from column {table.column + 1}{name}")
    with_other = table.lines_with_other_fields
    for e in with_other[:_SHOWN_OTHER]:
        _err(f"input {where(e.line)}: not numbers, not sent: {', '.join(repr(inert(o, 60)) for o in e.other)}")
    if len(with_other) > _SHOWN_OTHER:
        _err(f"input: {len(with_other) - _SHOWN_OTHER} more line(s) with fields that are not numbers")
    for e in table.entries:
        if not e.parsed.usable:
            _err(f"input {where(e.line)}: {inert(e.raw, 80)!r} rejected: {e.reason}")
        elif e.duplicate_of is not None:
            _err(f"input {where(e.line)}: {e.msisdn} duplicate of {where(e.duplicate_of)}: sent once")
        elif e.parsed.verdict is Verdict.WARNING:
            _err(f"input {where(e.line)}: {e.parsed.msisdn}: {e.reason}")
        elif e.unusual_form:
            _err(f"input {where(e.line)}: {inert(e.raw, 80)!r} read as {e.msisdn}: {e.reason}")


def _command(args: argparse.Namespace, rest: str) -> str:
    """The mobitui command line that repeats this run's --demo/--config with ``rest``."""
    import shlex

    words = ["mobitui"]
    if getattr(args, "demo", False):
        words.append("--demo")
    elif getattr(args, "config", None):
        words += ["--config", shlex.quote(str(args.config))]
    return " ".join(words) + " " + rest


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() + "\n")


class _Progress:
    """A one-line progress meter on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO, interval: float = 0.1):
        import time

        self.stream = stream
        self.enabled = stream.isatty()
        self.interval = interval
        self._time = time.monotonic
        self._last = 0.0
        self._shown = False

    def __call__(self, event: object) -> None:
        from mobitui.core.bulk import Paused, Progress

        if not self.enabled:
            return
        if isinstance(event, Paused):
            self._line(f"paused {event.seconds:.0f} s: {event.reason}")
        elif isinstance(event, Progress):
            now = self._time()
            finished = event.left == 0 and event.in_flight == 0
            if now - self._last >= self.interval or finished:
                self._last = now
                self._line(self.describe(event))

    @staticmethod
    def describe(p: object) -> str:
        from mobitui.core.bulk import Progress
        from mobitui.core.text import inert

        assert isinstance(p, Progress)
        width = 24
        settled = p.done + p.unknown if p.left == 0 else p.done
        filled = int(width * settled / p.total) if p.total else width
        parts = [f"[{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total}"]
        parts.append(f"{p.rate:.0f}/s")
        if p.eta is not None and p.left:
            parts.append(f"ETA {p.eta:.0f}s")
        out = p.outcomes
        parts.append(f"ok {out.get('ok', 0)} failed {out.get('failed', 0)}")
        if p.unknown:
            parts.append(f"unknown {p.unknown}")
        if p.states:
            top = sorted(p.states.items(), key=lambda kv: -kv[1])[:3]
            parts.append(", ".join(f"{inert(k, 20)} {n}" for k, n in top))
        if p.paused_for > 0:
            parts.append(f"paused {p.paused_for:.0f}s")
        if p.cancelling:
            parts.append(f"cancelling, {p.in_flight} in flight")
        return " · ".join(parts)

    def _line(self, text: str) -> None:
        # A line wider than the terminal wraps, and "\r" then rewrites only its last
        # row: the meter would scroll. Cut it to the width (read each time: resizes).
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            logger.debug("terminal width unknown; 80 assumed", exc_info=True)
            width = 80
        if len(text) > width - 1:
            text = text[: max(width - 2, 1)] + "…"
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _run_job(jobs, journal, key: str | None, stderr: TextIO, **job):  # type: ignore[no-untyped-def]
    """Run a job (``new=`` or ``resume=``, ``concurrency=``) through the jobs service on an
    event loop of its own, with a progress line; the first Ctrl-C cancels gently, the
    second abandons. Returns the :class:`~mobitui.core.job_service.JobOutcome`."""
    import signal

    progress = _Progress(stderr)

    async def go():  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        presses = 0
        running: list = []  # type: ignore[type-arg]

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            if presses == 1 and running:
                running[0].cancel()
                _err(
                    f"\ncancelling job {running[0].job_id}: no new requests; waiting for those in flight "
                    "(Ctrl-C again to abandon them, their outcome then unknown)"
                )
            elif task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not Unix
            logger.debug("no SIGINT handler for the job", exc_info=True)
        try:
            return await jobs.run(journal, key, on_event=progress, on_job=running.append, **job)
        finally:
            try:
                loop.remove_signal_handler(signal.SIGINT)
            except (NotImplementedError, RuntimeError):
                logger.debug("no SIGINT handler to remove", exc_info=True)
            progress.close()

    from mobitui.core import loops

    return loops.run(go())  # uvloop where installed: a third less CPU per request


def _job_output(store, job_id: int, as_json: bool, stdout: TextIO, unwritten=()) -> bool:  # type: ignore[no-untyped-def]
    """Print the job's numbers; True when every one of them succeeded. ``unwritten``:
    finished numbers the journal could not take, printed as the server answered."""
    from mobitui.core.text import inert

    info = store.get(job_id)
    all_ok = True
    late = {u.position: u for u in unwritten}
    rows = [["MSISDN", "OPERATION", "ROUTE", "OK", "STATE", "HTTP", "REFERENCE", "ERROR"]]
    for r in store.rows(job_id):
        if r["status"] == "skipped":
            continue
        u = late.get(r["position"])
        if u is not None:
            res = u.result
            r = {
                **r,
                "status": u.status.value,
                "outcome": res.outcome.value,
                "state": res.state,
                "route": res.route.value,
                "http_status": res.http_status,
                "reference": res.reference,
                "error": res.error,
                "note": u.note,
            }
        ok = r["outcome"] == "ok" and r["status"] == "done"
        all_ok = all_ok and ok
        if r["status"] == "pending":
            outcome, error = "not sent", "not sent: the job was cancelled before this number"
        else:
            outcome, error = r["outcome"] or "unknown", r["error"]
        if as_json:
            stdout.write(
                json.dumps(
                    {
                        "job_id": job_id,
                        "msisdn": r["msisdn"],
                        "campaign_id": info.campaign_id,
                        "operation": info.operation.value,
                        "route": r["route"] or info.route,
                        "ok": ok,
                        "outcome": outcome,
                        "state": inert(r["state"], 60) or None,
                        "http_status": r["http_status"],
                        "reference": inert(r["reference"], 200) or None,
                        "error": inert(error, 1000) or None,
                        "note": inert(r["note"], 300) or None,
                    }
                )
                + "\n"
            )
        else:
            rows.append(
                [
                    r["msisdn"],
                    info.operation.value,
                    r["route"] or info.route,
                    "yes" if ok else ("UNKNOWN" if outcome == "unknown" else "no"),
                    inert(r["state"], 40),
                    "" if r["http_status"] is None else str(r["http_status"]),
                    inert(r["reference"], 60),
                    inert(error, 300),
                ]
            )
    if not as_json and len(rows) > 1:
        _table(rows, stdout)
    return all_ok


def _after_job(jobs, journal, ended, args: argparse.Namespace, stdout: TextIO) -> int:  # type: ignore[no-untyped-def]
    """Output, export and exit code once a job has stopped (``ended``: its JobOutcome)."""
    from mobitui.core import export
    from mobitui.core.config import Route
    from mobitui.core.jobs import ItemStatus, JobState

    job_id = ended.job_id
    if job_id is None:  # abandoned before the job was stored
        return EXIT_INTERRUPTED
    store = jobs.store(journal)
    failure, state = ended.journal_failure, ended.state
    all_ok = _job_output(store, job_id, args.json, stdout, ended.unwritten)
    if getattr(args, "export", None):
        n = export.export(store, job_id, args.export)
        _err(f"exported {n} row(s) of job {job_id} to {args.export}")
    counts = store.count(job_id)
    if counts.status.get(ItemStatus.UNKNOWN):
        _err(
            f"job {job_id}: {counts.status[ItemStatus.UNKNOWN]} number(s) with outcome unknown; "
            f"`{_command(args, f'resume {job_id}')}` re-checks them by status; "
            + (
                "it sends again only where still subscribed"
                if Route(store.get(job_id).route).resent_on_resume
                else "it sends none of them again (each stop is an SMS): decide from the state it shows"
            )
        )
    if failure is not None or ended.journal_problems:
        what = f" ({failure})" if failure is not None else ""
        _err(
            f"the journal could not record every answer{what}: each number's line above says what the "
            f"server answered; do not send them again; `{_command(args, f'resume {job_id}')}` settles "
            "the job once the journal can be written"
        )
        return EXIT_JOURNAL
    if state is not JobState.DONE:
        left = counts.status.get(ItemStatus.PENDING, 0) + counts.status.get(ItemStatus.UNKNOWN, 0)
        _err(
            f"job {job_id} {state.value if state else 'interrupted'} with {left} number(s) "
            f"not finished; resume with `{_command(args, f'resume {job_id}')}`"
        )
        return EXIT_INTERRUPTED
    return EXIT_OK if all_ok else EXIT_FAILED


def _note_interrupted(jobs, journal, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    for info in jobs.interrupted(journal)[:5]:
        c = info.counts.status
        _err(
            f"note: job {info.id} ({info.operation.value}, {info.campaign_name}) was interrupted "
            f"with {c.get('done', 0)}/{info.total} done; resume it with `{_command(args, f'resume {info.id}')}`"
        )


def _check_concurrency(n: int | None) -> None:
    if n is not None and not 1 <= n <= 200:
        raise UsageError("--concurrency must be between 1 and 200")


def _check_export(path: str | None) -> None:
    """Everything about ``--export PATH`` that can be known before anything is sent."""
    from pathlib import Path

    from mobitui.core.export import format_for

    if not path:
        return
    try:
        format_for(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = Path(path).expanduser()
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"--export {path} is a directory; nothing was sent")
    if not folder.is_dir():
        raise UsageError(f"--export {path}: the directory {folder} does not exist; nothing was sent")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--export {path}: the directory {folder} is not writable; nothing was sent")


def _open_for_reading(rt):  # type: ignore[no-untyped-def]
    """The journal for a command that only reads it: read-only where it cannot be
    written (said on stderr), so history survives a read-only data directory."""
    from mobitui.core.journal import JournalFault, JournalFaultKind

    try:
        return rt.open_journal()
    except JournalFault as exc:
        if exc.kind is not JournalFaultKind.READ_ONLY:
            raise
        logger.debug("journal opened read-only", exc_info=True)
        journal = rt.open_journal(read_only=True)
        _err(f"note: {exc}; showing what it holds, read-only")
        return journal


def _confirm(count: int, what: str) -> bool:
    """Ask on the terminal; end of input (Ctrl-D) is a no."""
    print(what, file=sys.stderr)
    try:
        answer = input(f"Type {count} to confirm: ")
    except EOFError:
        print(file=sys.stderr)  # the prompt's line is left open by Ctrl-D
        _err("end of input (Ctrl-D): not confirmed")
        return False
    return answer.strip() == str(count)


# -- commands ------------------------------------------------------------------


def cmd_calls(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core import paste
    from mobitui.core.client import Operation, unsubscribe_effect
    from mobitui.core.job_service import NewJob

    operation = Operation(args.command)
    lines = _read_inputs(args, stdin)
    _check_concurrency(args.concurrency)
    _check_export(args.export)
    if operation is Operation.UNSUBSCRIBE and not args.yes and not stdin.isatty():
        raise UsageError("unsubscribe needs --yes when not run on a terminal; nothing was sent")

    rt = _runtime(args)
    try:
        jobs = _jobs(args, rt)
        _allowed(jobs, operation)
        try:
            campaign = rt.config.campaign(args.campaign)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
        source = "stdin" if args.file == "-" else (args.file or "command line")
        try:
            table = paste.read(lines, campaign.country, args.column)
        except paste.ColumnError as exc:
            raise UsageError(f"--column {args.column}: {exc}") from None
        entries = table.entries
        bad = [e for e in entries if not e.parsed.usable]
        _report_input(table, source, _Where(list(args.msisdns or [])))
        todo = sum(1 for e in entries if e.usable)
        if not todo:
            return EXIT_FAILED if bad else EXIT_OK
        if operation is Operation.UNSUBSCRIBE and not args.yes:
            effect = unsubscribe_effect(campaign)
            what = f"Unsubscribe {todo} number(s) from {campaign.name} via {campaign.unsubscribe_via.label}.\n{effect}"
            if not _confirm(todo, what):
                _err("not confirmed; nothing was sent")
                return EXIT_USAGE

        key = rt.key()
        if operation is Operation.UNSUBSCRIBE and campaign.unsubscribe_via.needs_key and not key.key:
            raise UsageError(key.problem or "no API key")
        concurrency = args.concurrency or rt.config.bulk.concurrency
        journal = rt.open_journal()
        try:
            _note_interrupted(jobs, journal, args)
            ended = _run_job(
                jobs,
                journal,
                key.key,
                sys.stderr,
                concurrency=concurrency,
                new=NewJob.of(campaign, operation, entries, source),
            )
            code = _after_job(jobs, journal, ended, args, stdout)
        finally:
            journal.close()
    finally:
        rt.close()
    return EXIT_FAILED if bad and code == EXIT_OK else code


def cmd_jobs(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core.job_service import JobService
    from mobitui.core.text import inert

    rt = _runtime(args)
    try:
        journal = _open_for_reading(rt)
        try:
            # On a writable journal, a job a dead process left 'running' shows as interrupted.
            jobs = JobService.list_jobs(journal, limit=args.limit)
        finally:
            journal.close()
    finally:
        rt.close()
    if args.json:
        for j in jobs:
            stdout.write(json.dumps(j.to_json()) + "\n")
        return EXIT_OK
    if not jobs:
        stdout.write("No bulk jobs in the journal.\n")
        return EXIT_OK
    table = [
        [
            "JOB",
            "CREATED (UTC)",
            "OPERATOR",
            "CAMPAIGN",
            "OPERATION",
            "STATE",
            "DONE",
            "OK",
            "FAILED",
            "UNKNOWN",
            "PENDING",
        ]
    ]
    for j in jobs:
        c = j.counts
        table.append(
            [
                str(j.id),
                j.created_at[:19].replace("T", " "),
                f"{j.os_user}@{j.host}",
                inert(j.campaign_name, 30),
                j.operation.value,
                j.state.value,
                f"{c.status.get('done', 0)}/{j.total}",
                str(c.outcome.get("ok", 0)),
                str(c.outcome.get("failed", 0)),
                str(c.status.get("unknown", 0) + c.status.get("in_flight", 0)),
                str(c.status.get("pending", 0)),
            ]
        )
    _table(table, stdout)
    resumable = [j.id for j in jobs if j.state.resumable]
    if resumable:
        stdout.write(f"\nResume with `{_command(args, 'resume JOB')}` (resumable: {', '.join(map(str, resumable))}).\n")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core.client import Operation, unsubscribe_effect
    from mobitui.core.job_service import JobRefused
    from mobitui.core.jobs import ItemStatus, JobError

    _check_concurrency(args.concurrency)
    _check_export(args.export)
    rt = _runtime(args)
    try:
        jobs = _jobs(args, rt)
        journal = rt.open_journal()
        try:
            try:
                info, campaign = jobs.for_resume(journal, args.job)
            except (JobError, JobRefused) as exc:
                raise UsageError(str(exc)) from None
            c = info.counts.status
            pending = c.get(ItemStatus.PENDING, 0)
            unsettled = c.get(ItemStatus.UNKNOWN, 0) + c.get(ItemStatus.IN_FLIGHT, 0)
            if info.operation is Operation.UNSUBSCRIBE and (pending or unsettled) and not args.yes:
                if not stdin.isatty():
                    raise UsageError(
                        "resuming an unsubscribe job needs --yes when not run on a terminal; nothing was sent"
                    )
                effect = unsubscribe_effect(campaign)
                what = (
                    f"Resume job {info.id}: unsubscribe from {campaign.name} via "
                    f"{campaign.unsubscribe_via.label}. {unsettled} number(s) with an unknown "
                    f"outcome are re-checked by status first and sent only if still subscribed; "
                    f"{pending} number(s) not yet sent.\n{effect}"
                )
                if not _confirm(pending + unsettled, what):
                    _err("not confirmed; nothing was sent")
                    return EXIT_USAGE
            key = rt.key()
            if info.operation is Operation.UNSUBSCRIBE and campaign.unsubscribe_via.needs_key and not key.key:
                raise UsageError(key.problem or "no API key")
            try:
                ended = _run_job(
                    jobs, journal, key.key, sys.stderr, resume=info.id, concurrency=args.concurrency or info.concurrency
                )
            except JobError as exc:
                raise UsageError(str(exc)) from None
            return _after_job(jobs, journal, ended, args, stdout)
        finally:
            journal.close()
    finally:
        rt.close()


def cmd_auth(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core import secrets
    from mobitui.core.secrets import KeySource

    if args.demo:
        raise UsageError("the demo uses a built-in key; auth manages the real one")
    rt = _runtime(args)
    account = rt.config.account.account_id
    if args.auth_command == "status":
        k = rt.key()
        stdout.write(f"account:  {account}\n")
        stdout.write(f"source:   {k.source}\n")
        stdout.write(f"key:      {k.masked}\n")
        backend = k.backend if k.source is not KeySource.ENVIRONMENT else secrets.backend_name()
        stdout.write(f"keyring:  {backend}\n")
        if k.problem:
            stdout.write(f"problem:  {k.problem}\n")
        return EXIT_OK if k.key else EXIT_FAILED
    try:
        if args.auth_command == "set":
            if stdin.isatty():
                key = getpass.getpass(f"API key for account {account} (not echoed): ")
            else:
                key = stdin.readline()
            if not key.strip():
                raise UsageError("no key given; nothing stored")
            try:
                backend = secrets.store(account, key)
            except ValueError as exc:
                raise UsageError(f"the key was refused: {exc}") from None
            stdout.write(f"Stored the API key for {account} in {backend} ({secrets.mask(key.strip())}).\n")
            if os.environ.get(secrets.ENV_KEY):
                stdout.write("Note: $MOBITUI_API_KEY is set and takes precedence over the keyring.\n")
            return EXIT_OK
        if secrets.delete(account):
            stdout.write(f"Deleted the API key for {account} from the keyring.\n")
            return EXIT_OK
        stdout.write(f"No API key was stored for {account}.\n")
        return EXIT_FAILED
    except secrets.KeyringUnavailable as exc:
        _err(str(exc))
        return EXIT_USAGE


def cmd_history(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core.msisdn import normalise
    from mobitui.core.text import inert

    rt = _runtime(args)
    try:
        parsed = normalise(args.msisdn, rt.config.campaigns[0].country)
        if not parsed.usable:
            raise UsageError(f"{args.msisdn!r} is not a usable number: {parsed.reason}")
        journal = _open_for_reading(rt)
        try:
            if args.all:
                rows = journal.history(parsed.msisdn, args.limit)
            else:  # the console's live refresh journals a check every few seconds
                rows = journal.history_entries(parsed.msisdn, args.limit)
        finally:
            journal.close()
    finally:
        rt.close()
    if args.json:
        for r in rows:
            stdout.write(json.dumps(r, ensure_ascii=True) + "\n")
        return EXIT_OK
    if not rows:
        stdout.write(f"No journal entries for {parsed.msisdn}.\n")
        return EXIT_OK
    table = [["TIME (UTC)", "OPERATOR", "CAMPAIGN", "OPERATION", "ROUTE", "OUTCOME", "STATE", "HTTP", "ERROR"]]
    merged = False
    for r in rows:
        operation = r["operation"]
        if r.get("repeats", 1) > 1:
            merged = True
            first = r["first_started_at"]
            since = first[11:19] if first[:10] == r["started_at"][:10] else first[:19].replace("T", " ")
            operation += f" ×{r['repeats']} since {since}"
        table.append(
            [
                r["started_at"][:19].replace("T", " "),
                f"{r['os_user']}@{r['host']}",
                inert(r["campaign_name"], 40),
                operation,
                r["route"],
                r["outcome_text"],
                inert(r["state"], 30),
                "" if r["http_status"] is None else str(r["http_status"]),
                inert(r["error"], 200),
            ]
        )
    _table(table, stdout)
    if merged:
        stdout.write("(×N: N status checks in a row that saw the same, shown once; --all lists each)\n")
    return EXIT_OK


NO_TERMINAL = (
    "the console needs a terminal, and {which} not one (cron, a pipe, or ssh without -t); "
    "nothing was started. For scripts use the headless commands: `mobitui status`, "
    "`mobitui unsubscribe`, `mobitui jobs`, `mobitui resume`, `mobitui history` (see `mobitui --help`); "
    "for the console over ssh, use `ssh -t`."
)


def cmd_console(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    # Without a terminal Textual still draws, into whatever stdout is, as fast as it can:
    # refuse at once instead of spinning (seen: 10 minutes at ~95% CPU under cron).
    missing = [name for name, stream in (("standard input", stdin), ("standard output", stdout)) if not _is_tty(stream)]
    if missing:
        which = " and ".join(missing) + (" are" if len(missing) == 2 else " is")
        raise UsageError(NO_TERMINAL.format(which=which))
    from mobitui.tui import launch

    return launch(args)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False


COMMANDS = {
    "status": cmd_calls,
    "unsubscribe": cmd_calls,
    "jobs": cmd_jobs,
    "resume": cmd_resume,
    "auth": cmd_auth,
    "history": cmd_history,
}


def _output_closed() -> int:
    """stdout's reader has gone (`mobitui jobs | head -1`): say so once, quietly exit.
    stdout is pointed at /dev/null so that Python's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        logger.debug("stdout could not be pointed at %s", os.devnull, exc_info=True)
    try:
        _err("the output was closed before everything was written (broken pipe)")
    except OSError:
        logger.debug("stderr is closed too", exc_info=True)
    return EXIT_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    from mobitui.core.config import ConfigError
    from mobitui.core.schema import JournalFault

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug and args.command != "config-example":
        from mobitui.core import logs

        logs.start(_err)
    logger.debug("mobitui %s: command %s", __version__, args.command or "console")
    try:
        if args.command == "config-example":
            from mobitui.core.config import EXAMPLE

            sys.stdout.write(EXAMPLE)
            return EXIT_OK
        if args.command == "simulator":
            from mobitui.simulator import cli as sim_cli

            return sim_cli.run(args)
        handler = COMMANDS.get(args.command, cmd_console)
        code = handler(args, sys.stdin, sys.stdout)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return code
    except ConfigError as exc:
        logger.debug("configuration refused", exc_info=True)
        _err(str(exc))
        return EXIT_USAGE
    except UsageError as exc:
        logger.debug("usage refused: %s", exc)
        _err(str(exc))
        return EXIT_USAGE
    except JournalFault as exc:
        logger.debug("journal fault (%s)", exc.kind, exc_info=True)
        _err(str(exc) + ("" if args.command in ("jobs", "history") else "; nothing more was sent"))
        return EXIT_USAGE
    except BrokenPipeError:
        logger.debug("stdout closed by its reader", exc_info=True)
        return _output_closed()
    except KeyboardInterrupt:
        logger.debug("interrupted (SIGINT)")
        _err("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
