"""The ``mobitui`` command: the console by default, headless subcommands for scripts.

Exit codes: 0 all succeeded; 1 any failed (an invalid input line, or an
unsubscribe whose outcome is unknown, counts); 2 a usage or configuration error
(one message naming the problem, no traceback); 3 the journal could not record
what happened (each number's line still says what the server answered: do not
run it again); 130 interrupted or cancelled (the job is kept in the journal:
`mobitui resume JOB`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from mobitui import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_JOURNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """A problem with how mobitui was called or configured."""


def _common(p: argparse.ArgumentParser, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    p.add_argument("--config", metavar="PATH", default=default,
                   help="config file (default: $MOBITUI_CONFIG, else the user config dir)")
    p.add_argument("--demo", action="store_true", default=False if top else argparse.SUPPRESS,
                   help="run against the built-in simulator with a demo account (no real traffic)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mobitui",
        description="Operator console for the Mobivate subscription APIs. "
        "Without a command, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"mobitui {__version__}")
    _common(parser, top=True)
    parser.add_argument("--campaign", metavar="NAME_OR_ID", help="preselect a campaign in the console")
    parser.add_argument("--read-only", action="store_true",
                        help="console without the unsubscribe action (shadowing, training)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for name, helptext in (
        ("status", "check the subscription state of numbers"),
        ("unsubscribe", "unsubscribe numbers via the campaign's route"),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        _common(p, top=False)
        p.add_argument("--campaign", required=True, metavar="NAME_OR_ID")
        p.add_argument("--json", action="store_true", help="one JSON object per line per MSISDN")
        p.add_argument("--concurrency", type=int, metavar="N",
                       help="requests in flight at once (default: bulk.concurrency)")
        p.add_argument("--file", metavar="PATH|-", help="read numbers from a file, or - for stdin")
        if name == "unsubscribe":
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        p.add_argument("--export", metavar="PATH", help="also write the results to PATH (.csv or .jsonl)")
        p.add_argument("msisdns", nargs="*", metavar="MSISDN")

    jobs = sub.add_parser("jobs", help="list bulk jobs (newest first), interrupted ones included")
    _common(jobs, top=False)
    jobs.add_argument("--json", action="store_true", help="one JSON object per line per job")
    jobs.add_argument("--limit", type=int, default=50)

    resume = sub.add_parser(
        "resume", help="resume an interrupted or cancelled bulk job",
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
    from mobitui.runtime import open_runtime

    return open_runtime(getattr(args, "config", None), bool(getattr(args, "demo", False)))


def _read_inputs(args: argparse.Namespace, stdin: TextIO) -> list[str]:
    lines = list(args.msisdns)
    if args.file:
        if args.file == "-":
            lines.extend(stdin.read().splitlines())
        else:
            try:
                with open(args.file, encoding="utf-8", errors="replace") as fh:
                    lines.extend(fh.read().splitlines())
            except OSError as exc:
                raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    if not lines:
        raise UsageError("no numbers given: pass MSISDNs or --file PATH|-")
    return lines


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")


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
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _run_job(open_service, make_job, stderr: TextIO):  # type: ignore[no-untyped-def]
    """Run a BulkJob with a progress line; the first Ctrl-C cancels gently, the second abandons.

    ``open_service()`` and ``make_job(service, on_event)`` are called inside the event loop.
    """
    import signal
    import sqlite3

    from mobitui.core.bulk import Finished

    progress = _Progress(stderr)
    finished: list[Finished] = []
    journal_failure: list[BaseException] = []

    def on_event(event: object) -> None:
        if isinstance(event, Finished):
            finished.append(event)
        progress(event)

    async def go():  # type: ignore[no-untyped-def]
        service = open_service()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        presses = 0
        job = None

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            if presses == 1 and job is not None:
                job.cancel()
                _err(f"\ncancelling job {job.job_id}: no new requests; waiting for those in flight "
                     "(Ctrl-C again to abandon them, their outcome then unknown)")
            elif task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not Unix
            pass
        try:
            job = make_job(service, on_event)
            await job.run()
        except asyncio.CancelledError:
            pass
        except sqlite3.Error as exc:  # the journal cannot be written: the job stopped sending
            if job is None:
                raise
            journal_failure.append(exc)
        finally:
            try:
                loop.remove_signal_handler(signal.SIGINT)
            except (NotImplementedError, RuntimeError):
                pass
            progress.close()
            await service.aclose()
        return job

    from mobitui.core import loops

    job = loops.run(go())  # uvloop where installed: a third less CPU per request
    if job is not None:
        job.journal_failure = journal_failure[0] if journal_failure else None
    return job, (finished[0].state if finished else None)


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
            r = {**r, "status": u.status.value, "outcome": res.outcome.value, "state": res.state,
                 "route": res.route.value, "http_status": res.http_status, "reference": res.reference,
                 "error": res.error, "note": u.note}
        ok = r["outcome"] == "ok" and r["status"] == "done"
        all_ok = all_ok and ok
        if r["status"] == "pending":
            outcome, error = "not sent", "not sent: the job was cancelled before this number"
        else:
            outcome, error = r["outcome"] or "unknown", r["error"]
        if as_json:
            stdout.write(json.dumps({
                "job_id": job_id, "msisdn": r["msisdn"], "campaign_id": info.campaign_id,
                "operation": info.operation.value, "route": r["route"] or info.route, "ok": ok,
                "outcome": outcome, "state": inert(r["state"], 60) or None,
                "http_status": r["http_status"], "reference": inert(r["reference"], 200) or None,
                "error": inert(error, 1000) or None, "note": inert(r["note"], 300) or None,
            }) + "\n")
        else:
            rows.append([
                r["msisdn"], info.operation.value, r["route"] or info.route,
                "yes" if ok else ("UNKNOWN" if outcome == "unknown" else "no"),
                inert(r["state"], 40), "" if r["http_status"] is None else str(r["http_status"]),
                inert(r["reference"], 60), inert(error, 300),
            ])
    if not as_json and len(rows) > 1:
        _table(rows, stdout)
    return all_ok


def _after_job(store, job, state, args: argparse.Namespace, stdout: TextIO) -> int:  # type: ignore[no-untyped-def]
    """Output, export and exit code once a job has stopped."""
    from mobitui.core import export
    from mobitui.core.jobs import JobState

    if job is None:  # abandoned before the job was stored
        return EXIT_INTERRUPTED
    failure = getattr(job, "journal_failure", None)
    all_ok = _job_output(store, job.job_id, args.json, stdout, job.unwritten)
    if getattr(args, "export", None):
        n = export.export(store, job.job_id, args.export)
        _err(f"exported {n} row(s) of job {job.job_id} to {args.export}")
    counts = store.count(job.job_id)
    if counts.status.get("unknown"):
        _err(f"job {job.job_id}: {counts.status['unknown']} number(s) with outcome unknown; "
             f"`mobitui resume {job.job_id}` re-checks them by status and sends only where still subscribed")
    if failure is not None or job.journal_problems:
        what = f" ({failure})" if failure is not None else ""
        _err(f"the journal could not record every answer{what}: each number's line above says what the "
             f"server answered; do not send them again; `mobitui resume {job.job_id}` settles the job "
             "once the journal can be written")
        return EXIT_JOURNAL
    if state is not JobState.DONE:
        left = counts.status.get("pending", 0) + counts.status.get("unknown", 0)
        _err(f"job {job.job_id} {state.value if state else 'interrupted'} with {left} number(s) "
             f"not finished; resume with `mobitui resume {job.job_id}`")
        return EXIT_INTERRUPTED
    return EXIT_OK if all_ok else EXIT_FAILED


def _note_interrupted(store, stderr: TextIO) -> None:  # type: ignore[no-untyped-def]
    for info in store.interrupted_jobs()[:5]:
        c = info.counts.status
        _err(f"note: job {info.id} ({info.operation.value}, {info.campaign_name}) was interrupted "
             f"with {c.get('done', 0)}/{info.total} done; resume it with `mobitui resume {info.id}`")


def _check_concurrency(n: int | None) -> None:
    if n is not None and not 1 <= n <= 200:
        raise UsageError("--concurrency must be between 1 and 200")


def _check_export(path: str | None) -> None:
    from mobitui.core.export import format_for

    if path:
        try:
            format_for(path)
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def _confirm(count: int, what: str) -> bool:
    print(what, file=sys.stderr)
    return input(f"Type {count} to confirm: ").strip() == str(count)


# -- commands ------------------------------------------------------------------


def cmd_calls(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core import paste
    from mobitui.core.bulk import BulkJob
    from mobitui.core.client import Operation, unsubscribe_effect
    from mobitui.core.jobs import JobStore
    from mobitui.core.service import Service
    from mobitui.core.text import inert

    operation = Operation(args.command)
    lines = _read_inputs(args, stdin)
    _check_concurrency(args.concurrency)
    _check_export(args.export)
    if operation is Operation.UNSUBSCRIBE and not args.yes and not stdin.isatty():
        raise UsageError("unsubscribe needs --yes when not run on a terminal; nothing was sent")

    rt = _runtime(args)
    try:
        try:
            campaign = rt.config.campaign(args.campaign)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
        entries = paste.parse(lines, campaign.country)
        bad = [e for e in entries if not e.parsed.usable]
        for e in bad:
            _err(f"input line {e.line}: {inert(e.raw, 80)!r} rejected: {e.reason}")
        for e in entries:
            if e.parsed.usable and e.parsed.verdict.value == "warning":
                _err(f"input line {e.line}: {e.parsed.msisdn}: {e.reason}")
        todo = sum(1 for e in entries if e.usable)
        if not todo:
            return EXIT_FAILED if bad else EXIT_OK
        if operation is Operation.UNSUBSCRIBE and not args.yes:
            effect = unsubscribe_effect(campaign)
            what = (f"Unsubscribe {todo} number(s) from {campaign.name} via "
                    f"{campaign.unsubscribe_via.label}.\n{effect}")
            if not _confirm(todo, what):
                _err("not confirmed; nothing was sent")
                return EXIT_USAGE

        key = rt.key()
        if operation is Operation.UNSUBSCRIBE and campaign.unsubscribe_via.value != "subscription-api" and not key.key:
            raise UsageError(key.problem or "no API key")
        concurrency = args.concurrency or rt.config.bulk.concurrency
        journal = rt.open_journal()
        try:
            store = JobStore(journal)
            _note_interrupted(store, sys.stderr)
            source = "stdin" if args.file == "-" else (args.file or "command line")
            job, state = _run_job(
                lambda: Service.open(rt.config, key.key, journal, demo=rt.demo, concurrency=concurrency),
                lambda service, on_event: BulkJob.create(
                    service, campaign, entries, operation, concurrency=concurrency,
                    source=source, on_event=on_event,
                ),
                sys.stderr,
            )
            code = _after_job(store, job, state, args, stdout)
        finally:
            journal.close()
    finally:
        rt.close()
    return EXIT_FAILED if bad and code == EXIT_OK else code


def cmd_jobs(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core.jobs import JobStore
    from mobitui.core.text import inert

    rt = _runtime(args)
    try:
        journal = rt.open_journal()
        try:
            store = JobStore(journal)
            store.interrupted_jobs()  # a job a dead process left 'running' shows as interrupted
            jobs = store.list(limit=args.limit)
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
    table = [["JOB", "CREATED (UTC)", "OPERATOR", "CAMPAIGN", "OPERATION", "STATE",
              "DONE", "OK", "FAILED", "UNKNOWN", "PENDING"]]
    for j in jobs:
        c = j.counts
        table.append([
            str(j.id), j.created_at[:19].replace("T", " "), f"{j.os_user}@{j.host}",
            inert(j.campaign_name, 30), j.operation.value, j.state.value,
            f"{c.status.get('done', 0)}/{j.total}", str(c.outcome.get("ok", 0)),
            str(c.outcome.get("failed", 0)),
            str(c.status.get("unknown", 0) + c.status.get("in_flight", 0)),
            str(c.status.get("pending", 0)),
        ])
    _table(table, stdout)
    resumable = [j.id for j in jobs if j.state.value in ("interrupted", "cancelled")]
    if resumable:
        stdout.write(f"\nResume with `mobitui resume JOB` (resumable: {', '.join(map(str, resumable))}).\n")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core.bulk import BulkJob, campaign_for
    from mobitui.core.client import Operation, unsubscribe_effect
    from mobitui.core.jobs import JobError, JobStore
    from mobitui.core.service import Service

    _check_concurrency(args.concurrency)
    _check_export(args.export)
    rt = _runtime(args)
    try:
        journal = rt.open_journal()
        try:
            store = JobStore(journal)
            store.interrupted_jobs()
            info = store.get(args.job)
            if info is None:
                raise UsageError(f"no job {args.job} in the journal {rt.journal_path}")
            try:
                campaign = campaign_for(rt.config, info)
            except JobError as exc:
                raise UsageError(str(exc)) from None
            c = info.counts.status
            pending = c.get("pending", 0)
            unsettled = c.get("unknown", 0) + c.get("in_flight", 0)
            if info.operation is Operation.UNSUBSCRIBE and (pending or unsettled) and not args.yes:
                if not stdin.isatty():
                    raise UsageError("resuming an unsubscribe job needs --yes when not run on a "
                                     "terminal; nothing was sent")
                effect = unsubscribe_effect(campaign)
                what = (f"Resume job {info.id}: unsubscribe from {campaign.name} via "
                        f"{campaign.unsubscribe_via.label}. {unsettled} number(s) with an unknown "
                        f"outcome are re-checked by status first and sent only if still subscribed; "
                        f"{pending} number(s) not yet sent.\n{effect}")
                if not _confirm(pending + unsettled, what):
                    _err("not confirmed; nothing was sent")
                    return EXIT_USAGE
            key = rt.key()
            if (info.operation is Operation.UNSUBSCRIBE
                    and campaign.unsubscribe_via.value != "subscription-api" and not key.key):
                raise UsageError(key.problem or "no API key")
            concurrency = args.concurrency or info.concurrency
            try:
                job, state = _run_job(
                    lambda: Service.open(rt.config, key.key, journal, demo=rt.demo, concurrency=concurrency),
                    lambda service, on_event: BulkJob.resume(
                        service, info.id, concurrency=concurrency, on_event=on_event
                    ),
                    sys.stderr,
                )
            except JobError as exc:
                raise UsageError(str(exc)) from None
            return _after_job(store, job, state, args, stdout)
        finally:
            journal.close()
    finally:
        rt.close()


def cmd_auth(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.core import secrets

    if args.demo:
        raise UsageError("the demo uses a built-in key; auth manages the real one")
    rt = _runtime(args)
    account = rt.config.account.account_id
    if args.auth_command == "status":
        k = rt.key()
        stdout.write(f"account:  {account}\n")
        stdout.write(f"source:   {k.source}\n")
        stdout.write(f"key:      {k.masked}\n")
        backend = k.backend if k.source != "environment" else secrets.backend_name()
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
            backend = secrets.store(account, key)
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
        journal = rt.open_journal()
        rows = journal.history(parsed.msisdn, args.limit)  # type: ignore[arg-type]
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
    for r in rows:
        table.append([
            r["started_at"][:19].replace("T", " "), f"{r['os_user']}@{r['host']}",
            inert(r["campaign_name"], 40), r["operation"], r["route"], r["outcome_text"],
            inert(r["state"], 30), "" if r["http_status"] is None else str(r["http_status"]),
            inert(r["error"], 200),
        ])
    _table(table, stdout)
    return EXIT_OK


def cmd_console(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from mobitui.tui import launch

    return launch(args)


COMMANDS = {
    "status": cmd_calls,
    "unsubscribe": cmd_calls,
    "jobs": cmd_jobs,
    "resume": cmd_resume,
    "auth": cmd_auth,
    "history": cmd_history,
}


def main(argv: Sequence[str] | None = None) -> int:
    from mobitui.core.config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "config-example":
            from mobitui.core.config import EXAMPLE

            sys.stdout.write(EXAMPLE)
            return EXIT_OK
        if args.command == "simulator":
            from mobitui.simulator import cli as sim_cli

            return sim_cli.run(args)
        handler = COMMANDS.get(args.command, cmd_console)
        return handler(args, sys.stdin, sys.stdout)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
