"""Bulk work: paste numbers, check them all, unsubscribe a selection, export.

The paste is parsed in a worker thread (100,000 lines never block the keys),
the job runs in the core's bulk engine, and the table shows at most
``SHOWN`` rows of the current filter: the journal holds every result, the
export writes them all.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Static, TextArea
from textual.widgets.data_table import RowKey

from mobitui.core import paste, states
from mobitui.core.config import Campaign
from mobitui.core.paste import EntryVerdict
from mobitui.core.results import Operation, Outcome, Result
from mobitui.tui.safe import plain
from mobitui.tui.screens.bulk_confirm import BulkUnsubscribeConfirm
from mobitui.tui.widgets.field import Field

if TYPE_CHECKING:
    from mobitui.core.bulk import Event
    from mobitui.core.job_service import JobRun, JobService
    from mobitui.core.jobs import JobInfo
    from mobitui.core.service import Service

SHOWN = 2000
LEAVE_WINDOW = 4.0  # seconds in which a second Esc leaves a screen holding a paste
COLUMNS = ("mark", "line", "msisdn", "state", "outcome", "verdict", "as pasted", "error")
_VERDICT_STYLE = {
    EntryVerdict.OK: "green",
    EntryVerdict.WARNING: "yellow",
    EntryVerdict.INVALID: "red",
    EntryVerdict.DUPLICATE: "dim",
}
RESULT_COLUMNS = {"state": 12, "outcome": 7, "error": 60}  # fixed widths
FILTERS = ["all", "usable", "rejected", "active", "not active", "failed", "unknown"]

logger = logging.getLogger(__name__)


class Row:
    """One pasted entry and what became of it."""

    __slots__ = ("before", "entry", "index", "job_id", "marked", "result")

    def __init__(self, index: int, entry: paste.Entry) -> None:
        self.index = index
        self.entry = entry
        self.result: Result | None = None
        self.job_id: int | None = None  # the job whose answer ``result`` is
        # What was known before an unsubscribe that was not sent (``Result.not_sent``):
        # that refusal says nothing of the number's state, so the state seen stays shown.
        self.before: Result | None = None
        self.marked = False

    def answered(self, result: Result, job_id: int | None) -> None:
        """Take a new answer for this row (from job ``job_id``)."""
        if result.not_sent and self.result is not None and not self.result.not_sent:
            self.before = self.result
        elif not result.not_sent:
            self.before = None
        self.result, self.job_id = result, job_id

    @property
    def known(self) -> Result | None:
        """The newest answer that says something of the number: ``result``, or what was
        seen before it when ``result`` is a refusal that sent nothing."""
        r = self.result
        return self.before if r is not None and r.not_sent and self.before is not None else r

    def matches(self, f: str) -> bool:
        r = self.result
        if f == "all":
            return True
        if f == "usable":
            return self.entry.usable
        if f == "rejected":
            return not self.entry.usable
        if f == "active":
            return r is not None and r.ok and r.state == "active"
        if f == "not active":
            return r is not None and r.ok and r.state != "active"
        if f == "failed":
            return r is not None and r.outcome is Outcome.FAILED
        if f == "unknown":
            return r is not None and r.outcome is Outcome.UNKNOWN
        return True


class ExportPrompt(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export_cancel")]

    def __init__(self, default: str, which: str = "all") -> None:
        super().__init__()
        self.default = default
        self.which = which

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(f"Export the rows shown ({self.which}), with their paste lines: .csv or .jsonl", "bold"))
            yield Field(value=self.default, id="export-path")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("ctrl+r", "check", "Check all", id="bulk_check"),
    Binding("ctrl+o", "unsubscribe", "Unsubscribe…", id="bulk_unsubscribe"),
    Binding("ctrl+t", "cycle_filter", "Filter", id="bulk_filter"),
    Binding("ctrl+s", "export", "Export", id="bulk_export"),
    Binding("f5", "resume", "Resume job", id="bulk_resume"),
    Binding("y", "copy_numbers", "Copy numbers", id="bulk_copy"),
    Binding("escape", "escape", "Cancel run / back", id="bulk_escape"),
]
# The help's rows for this screen: binding ids and what each does, in a few words.
HELP_ROWS = (
    (("bulk_check", "check all"), ("bulk_unsubscribe", "unsubscribe a selection"), ("bulk_filter", "filter")),
    (
        ("bulk_export", "export"),
        ("bulk_copy", "copy numbers"),
        ("bulk_resume", "resume a job"),
        ("bulk_escape", "cancel a run"),
    ),
)
_SHORT = {"escape": "esc"}


def keys_in_effect(keymap: Mapping[str, str]) -> dict[str, list[str]]:
    """The bulk screen's keys by binding id, with ``keymap`` (``[ui.keys]`` as the app
    applied it: binding id -> keys, comma-separated) overlaid as Textual does."""
    bindings = BindingsMap(BINDINGS)
    if keymap:
        bindings.apply_keymap(dict(keymap))
    keys: dict[str, list[str]] = {}
    for key, found in bindings.key_to_bindings.items():
        for b in found:
            if b.id is not None:
                keys.setdefault(b.id, []).append(key)
    return keys


def help_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(keys, "bulk", what they do) rows for the help screen, from the bindings in effect."""
    keys = keys_in_effect(keymap)
    return [
        (
            " / ".join(",".join(_SHORT.get(k, k) for k in keys.get(i, ["(none)"])) for i, _ in row),
            "bulk",
            " / ".join(does for _, does in row),
        )
        for row in HELP_ROWS
    ]


def key_name(keymap: Mapping[str, str], binding_id: str) -> str:
    """How a sentence names the key of a binding in effect: ctrl+r, F5, Esc."""
    keys = keys_in_effect(keymap).get(binding_id) or ["(unbound)"]
    key = keys[0]
    if key == "escape":
        return "Esc"
    return key.upper() if key[:1] == "f" and key[1:].isdigit() else key


def _caution(chosen: list[Row]) -> str | None:
    """What the bulk dialog must say of the chosen rows beyond their count: those the
    last check found not active (the single-number dialog asks for 'again' for one
    already unsubscribed), and those with no successful check. None when all are active."""
    seen: dict[str, int] = {}
    unchecked = stopped = 0
    for r in chosen:
        result = r.known
        if result is not None and result.operation is Operation.UNSUBSCRIBE and not result.not_sent:
            stopped += 1  # accepted, refused by the server, or of unknown outcome: it reached it
        elif result is None or not result.ok or result.operation is not Operation.STATUS:
            unchecked += 1
        elif result.state != "active":
            seen[result.state or "no state"] = seen.get(result.state or "no state", 0) + 1
    parts = []
    if seen:
        n = sum(seen.values())
        states_seen = ", ".join(f"{state} {count}" for state, count in sorted(seen.items()))
        parts.append(f"{n} the last check found not active ({states_seen})")
    if stopped:
        parts.append(f"{stopped} already sent a stop from this paste")
    if unchecked:
        parts.append(f"{unchecked} with no successful check in this paste")
    if not parts:
        return None
    return "Of these, " + "; ".join(parts) + ". Each is sent a stop all the same."


class BulkTable(DataTable[Any]):
    """The rows of a paste. Enter marks the row under the cursor as the key is handled,
    not through a ``RowSelected`` message: a ctrl+o typed right behind Enter ran before
    that message arrived, and the dialog offered every active number instead of the one
    just marked."""

    def action_select_cursor(self) -> None:
        screen = self.screen
        if self.row_count and isinstance(screen, BulkScreen):
            row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
            screen.toggle_mark(self, row_key)


class BulkScreen(Screen[None]):
    BINDINGS = BINDINGS

    def __init__(
        self,
        campaign: Campaign,
        core: Callable[[], Awaitable[Service]],
        jobs: JobService,
        api_key: Callable[[], str | None],
        pasted: str | None = None,
    ) -> None:
        """``core``: the console's service, once started; ``jobs``: creates, runs (off this
        loop), resumes and reads bulk jobs; ``api_key``: the key as known when a job starts;
        ``pasted``: text to start with (a list pasted into the MSISDN field)."""
        super().__init__()
        self._initial_text = pasted
        self.campaign = campaign
        self.core = core
        self.jobs = jobs
        self.read_only = jobs.read_only
        self._api_key = api_key
        self.rows: list[Row] = []
        self.table: paste.Table | None = None  # how the paste was read: header, other fields
        self.by_msisdn: dict[str, Row] = {}
        self.filter = "all"
        self.running: JobRun | None = None  # the job being run, off the console's loop
        self.job_id: int | None = None
        self._parse_generation = 0
        self._parsed_generation = 0  # the paste the rows are of; behind while one is read
        self._check_when_read = False
        self._dirty: set[str] = set()
        self.interrupted: list[int] = []
        self._interrupted_info: dict[int, JobInfo] = {}  # filled with self.interrupted
        self._drawn_stats = self._drawn_rows = 0.0
        self._shown: list[int] = []  # indices into self.rows, in table order
        self._stale: set[int] = set()  # shown rows whose result is newer than their cells
        self._cancelled_at: float | None = None  # Esc during a run: cancel, then abandon
        self._abandoned = False
        self._leave_asked_at: float | None = None  # Esc with a paste: asks before discarding it

    def compose(self) -> ComposeResult:
        c = self.campaign
        runtime = getattr(self.app, "runtime", None)
        if runtime is not None and runtime.demo:
            yield Static(
                "DEMO  built-in simulator, demo account and key: no real subscriber is touched", id="demo-banner"
            )
        if self.read_only:
            yield Static("READ-ONLY  unsubscribing is switched off", id="readonly-banner")
        # One short line: at 80 columns a hint here was cut; the summary gives it instead.
        yield Static(
            Text.assemble(("Bulk", "bold"), "  ", (c.name, "bold"), f"  via {c.unsubscribe_via.label}"),
            id="bulk-title",
        )
        with Horizontal(id="bulk-main"):
            yield TextArea(id="paste", soft_wrap=False, show_line_numbers=True)
            with Vertical(id="bulk-right"):
                yield Static(id="paste-summary")
                yield Static(id="bulk-stats")
                yield BulkTable(id="bulk-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#bulk-table", DataTable)
        # The number and its state first: what an operator reads in a narrow terminal.
        # Results are drawn into existing cells, which do not widen their column, so
        # those columns have fixed widths ('doi-declined', 'unknown').
        for label in COLUMNS:
            table.add_column(label, key=label, width=RESULT_COLUMNS.get(label))
        self.query_one("#paste", TextArea).border_title = "Paste"
        self._summary()
        self.query_one("#paste", TextArea).focus()
        if self._initial_text:
            self.query_one("#paste", TextArea).load_text(self._initial_text)
        self.find_interrupted()
        self.set_interval(0.5, self._refresh_when_idle)

    def _refresh_when_idle(self) -> None:
        if self.running is None:  # during a run the progress events drive the redraws
            self._refresh_rows()

    def key(self, binding_id: str) -> str:
        """The key in effect for one of this screen's bindings, as a sentence names it."""
        # Textual keeps the keymap in effect on the app and has no public getter for it;
        # its own Screen reads it the same way (textual is pinned in pyproject).
        return key_name(getattr(self.app, "_keymap", {}), binding_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume" and not self.interrupted:
            return False
        return True

    # -- parsing -----------------------------------------------------------------
    @on(TextArea.Changed, "#paste")
    def _pasted(self) -> None:
        self._parse_generation += 1
        generation = self._parse_generation
        self.set_timer(0.25, lambda: self._parse_if_current(generation))

    def _parse_if_current(self, generation: int) -> None:
        if generation == self._parse_generation and self.running is None:
            self.parse_paste(self.query_one("#paste", TextArea).text, generation)

    @work(thread=True, exclusive=True, group="bulk-parse", exit_on_error=False, description="parsing the paste")
    def parse_paste(self, text: str, generation: int) -> None:
        table = paste.read(text, self.campaign.country)
        self.app.call_from_thread(self._parsed, table.entries, generation, table)

    def _parsed(self, entries: list[paste.Entry], generation: int, table: paste.Table | None = None) -> None:
        if generation != self._parse_generation:
            return
        self._parsed_generation = generation
        self.query_one("#bulk-stats", Static).update("")  # the counts were of the paste before
        self.table = table
        self.rows = [Row(i, e) for i, e in enumerate(entries)]
        self._stale.clear()
        self.by_msisdn = {r.entry.msisdn: r for r in self.rows if r.entry.usable and r.entry.msisdn}
        self.job_id = None
        self._summary()
        self._fill()
        if self._check_when_read:
            self._check_when_read = False
            self.action_check()

    # -- the table ---------------------------------------------------------------
    def _cells(self, row: Row) -> dict[str, Text]:
        e, r = row.entry, row.result
        verdict_style = _VERDICT_STYLE[e.verdict]
        state = outcome = error = Text("")
        if r is not None:
            seen = row.known or r
            m = states.meaning(seen.state) if seen.ok else None
            state = plain(seen.state or "", 30, "bold green" if m is states.Meaning.BILLING else "")
            if r.not_sent:
                outcome = Text("not sent", "bold yellow")
            else:
                outcome = Text(
                    r.outcome.value, {"ok": "green", "failed": "red", "unknown": "bold yellow"}[r.outcome.value]
                )
            error = plain(r.error or "", 160, "yellow" if r.not_sent else "red")
        return {
            "mark": Text("●" if row.marked else ""),
            "line": Text(str(e.line)),
            "msisdn": Text(e.msisdn or ""),
            "state": state,
            "outcome": outcome,
            "verdict": plain(
                e.reason if e.verdict is not EntryVerdict.OK or e.unusual_form else "ok", 28, verdict_style
            ),
            "as pasted": plain(e.raw, 30),
            "error": error,
        }

    def _fill(self) -> None:
        table = self.query_one("#bulk-table", DataTable)
        table.clear()
        self._shown = []
        for i, row in enumerate(self.rows):
            if row.matches(self.filter):
                table.add_row(*self._cells(row).values(), key=str(i))
                self._shown.append(i)
                if len(self._shown) >= SHOWN:
                    break
        self._stale.difference_update(self._shown)  # drawn just now with their current results
        total = sum(1 for r in self.rows if r.matches(self.filter))
        more = f" (first {SHOWN} shown; the export has all)" if total > SHOWN else ""
        table.border_title = f"filter: {self.filter} · {total} rows{more}"

    def _refresh_rows(self) -> None:
        """Draw results into the rows in view (and a page either side); the rest stay
        marked stale and are drawn when they scroll into view (the screen re-checks
        every half second), so a run of thousands costs a screenful per tick."""
        for msisdn in self._dirty:
            row = self.by_msisdn.get(msisdn)
            if row is not None:
                self._stale.add(row.index)
        self._dirty.clear()
        if not self._stale:
            return
        table = self.query_one("#bulk-table", DataTable)
        page = max(table.size.height, 10)
        first = max(0, int(table.scroll_y) - page)
        for index in self._shown[first : first + 3 * page]:
            if index in self._stale:
                self._stale.discard(index)
                key = str(index)
                if key in table.rows:
                    cells = self._cells(self.rows[index])
                    for column in RESULT_COLUMNS:
                        table.update_cell(key, column, cells[column])

    def _summary(self) -> None:
        """How the paste was read, in short lines that fit the pane at 80 columns
        (about 54 characters); the fixed parts are never cut, a long header wraps."""
        t = Text()
        if not self.rows:
            t.append("Paste numbers on the left: one per line, or separated by , ; or tabs", "dim")
            self.query_one("#paste-summary", Static).update(t)
            return
        c = paste.counts(r.entry for r in self.rows)
        usable = sum(1 for r in self.rows if r.entry.usable)
        t.append(f"{len(self.rows)} entries: ", "bold")
        t.append(f"{usable} to send", "bold green")
        t.append(f"  {self.key('bulk_check')} checks them all\n", "dim")
        t.append(f"{c['ok']} ok · {c['warning']} warnings · ")
        t.append(f"{c['invalid']} invalid", "red" if c["invalid"] else "")
        t.append(f" · {c['duplicate']} duplicates")
        table = self.table
        if table is not None and table.header is not None:
            t.append(f"\nheader row {table.header[0]} skipped")
        if table is not None and table.lines_with_other_fields:
            t.append(f"\n{len(table.lines_with_other_fields)} lines with other fields (not sent)")
        self.query_one("#paste-summary", Static).update(t)

    def toggle_mark(self, table: DataTable[Any], row_key: RowKey) -> None:
        """Mark or unmark a row (Enter in the table): at once, see :class:`BulkTable`."""
        row = self.rows[int(str(row_key.value))]
        if not row.entry.usable:
            return
        row.marked = not row.marked
        table.update_cell(row_key, "mark", Text("●" if row.marked else ""))

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self._fill()

    # -- running -----------------------------------------------------------------
    def _usable(self) -> list[Row]:
        return [r for r in self.rows if r.entry.usable]

    def action_check(self) -> None:
        if self.running is not None:
            self.notify(f"A job is running; {self.key('bulk_escape')} cancels it.", markup=False)
            return
        if self._parsed_generation != self._parse_generation:  # the rows are of the paste before
            self._check_when_read = True
            self.notify("Reading the paste: the check starts as soon as it is read.", markup=False)
            return
        if not self._usable():
            self.notify("Nothing to check: paste numbers first.", markup=False)
            return
        if any(r.result is not None for r in self.rows):  # a fresh paste has nothing to clear
            for r in self.rows:
                r.result, r.job_id, r.before = None, None, None
            self._fill()
        self.start_job(Operation.STATUS, [r.entry for r in self.rows], None)

    def action_unsubscribe(self) -> None:
        refused = self.jobs.refusal(Operation.UNSUBSCRIBE)
        if refused:
            self.notify(refused, severity="error", markup=False)
            return
        if self.running is not None:
            self.notify(f"A job is running; {self.key('bulk_escape')} cancels it.", markup=False)
            return
        if self._parsed_generation != self._parse_generation:
            self.notify(
                "The paste changed and is being read: nothing chosen. Unsubscribe once it is read.", markup=False
            )
            return
        marked = [r for r in self.rows if r.marked and r.entry.usable]
        if marked:
            chosen, which = marked, "the marked ones"
        else:
            chosen = [r for r in self.rows if r.result is not None and r.result.ok and r.result.state == "active"]
            which = "every number the last check found active"
        if not chosen:
            self.notify(
                f"Nothing selected: check first ({self.key('bulk_check')}), or mark rows with Enter.", markup=False
            )
            return
        from mobitui.core.client import unsubscribe_effect

        effect = unsubscribe_effect(self.campaign)
        numbers = [r.entry.msisdn for r in chosen if r.entry.msisdn]
        caution = _caution(chosen)

        def answered(ok: bool | None) -> None:
            if ok:
                self.start_job(Operation.UNSUBSCRIBE, numbers, which)
            else:
                self.notify("Cancelled: nothing was sent.", markup=False)

        self.app.push_screen(BulkUnsubscribeConfirm(self.campaign, len(numbers), effect, which, caution), answered)

    @work(exclusive=True, group="bulk-run", exit_on_error=False, description="bulk job")
    async def start_job(
        self,
        operation: Operation,
        numbers: list[paste.Entry] | list[str],
        which: str | None,
        resume_id: int | None = None,
    ) -> None:
        import asyncio

        from mobitui.core.job_service import JobError, JobProcessFailed, NewJob

        service = await self.core()  # the console's own service: its recorder is the request log
        new = None
        if resume_id is None:  # 100,000 lines take a while: off the loop
            new = await asyncio.to_thread(NewJob.of, self.campaign, operation, numbers, "console paste")
        self.job_id = None
        try:
            running = self.jobs.start(self._api_key(), new=new, resume=resume_id, recorder=service.recorder)
        except JobError as exc:  # read-only mode
            self.notify(str(exc), severity="error", markup=False, timeout=10)
            return
        future = running.future
        self.running = running
        self._cancelled_at, self._abandoned = None, False
        area = self.query_one("#paste", TextArea)
        area.read_only = True
        # A blinking cursor redraws the paste every half second, and the paste's
        # height is summed over all its lines on each draw (10 ms for 4,000 lines):
        # during a run the cursor stands still.
        area.cursor_blink = False
        drawer = self.set_interval(0.1, self._take_events)
        # The console holds a few hundred thousand long-lived objects (widgets, styles,
        # the paste). Frozen for the run, the collections that the run's results set
        # off do not rescan them: those full scans were the 80-100 ms stalls of a run.
        gc.freeze()
        try:
            await asyncio.wrap_future(future)
        except JobError as exc:
            logger.debug("bulk job refused: %s", exc)
            self.notify(str(exc), severity="error", markup=False, timeout=10)
        except JobProcessFailed as exc:  # its process died: F5 resumes the job
            logger.debug("bulk job's process failed: %s", exc)
            if not self._abandoned:
                self.notify(f"The bulk job stopped: {exc}", severity="error", markup=False, timeout=15)
            self.find_interrupted()
        except Exception as exc:  # the job's thread failed: say so, never a silent nothing
            logger.debug("bulk job failed", exc_info=True)
            self.notify(
                f"The bulk job stopped: {type(exc).__name__}: {exc}", severity="error", markup=False, timeout=15
            )
        finally:
            gc.unfreeze()
            drawer.stop()
            self._take_events()
            self.running = None
            if self._abandoned:  # after the last progress drawn, which still said "cancelling"
                self.query_one("#bulk-stats", Static).update(
                    Text(
                        f"Job {self.job_id} abandoned: the requests that were in flight have an unknown outcome. "
                        f"{self.key('bulk_resume')} resumes it: those are re-checked first, numbers done are not "
                        "sent again.",
                        "bold yellow",
                    )
                )
            if operation is Operation.UNSUBSCRIBE:
                # The marks chose these numbers; left on, the next ctrl+o would choose them again.
                for r in self.rows:
                    r.marked = False
                self._fill()
            area.read_only = False
            area.cursor_blink = True
            self._refresh_rows()
            if self.filter not in ("all", "usable", "rejected"):
                self._fill()  # the rows that match a result filter have changed
            if self.job_id is not None:  # answers the screen missed (a job process killed mid-run)
                self.load_job(self.job_id, self._parse_generation, rows=False)
            self.app.prepare_job_process()  # type: ignore[attr-defined]  # warm for the next run

    def _take_events(self) -> None:
        running = self.running
        if running is None:
            return
        if running.job_id is not None:
            self.job_id = running.job_id  # what the export writes
        for event in running.drain():
            self._on_event(event)

    def _on_event(self, event: Event) -> None:
        from mobitui.core.bulk import Finished, ItemResult, Paused, Progress

        if isinstance(event, ItemResult):
            row = self.by_msisdn.get(event.msisdn)
            if row is not None:
                row.answered(event.result, event.job_id)
                self._dirty.add(event.msisdn)
        elif isinstance(event, Progress):
            # Drawing the table is the costly part (tens of ms): rows at most once a
            # second, the counters four times a second, so the keys stay responsive.
            now = time.monotonic()
            if now - self._drawn_stats >= 0.25:
                self._drawn_stats = now
                self._show_progress(event)
            if now - self._drawn_rows >= 1.0:
                self._drawn_rows = now
                self._refresh_rows()
        elif isinstance(event, Paused):
            self.notify(
                f"Server asked to slow down: pausing {event.seconds:g} s ({event.reason}).",
                severity="warning",
                markup=False,
            )
        elif isinstance(event, Finished):
            p = event.progress
            self._show_progress(p)
            self.notify(
                f"Job {event.job_id} {event.state.value}: {p.outcomes.get('ok', 0)} ok, "
                f"{p.outcomes.get('failed', 0)} failed, {p.unknown} unknown, of {p.total}.",
                markup=False,
                timeout=10,
            )

    def _show_progress(self, p: object) -> None:
        from mobitui.core.bulk import Progress

        assert isinstance(p, Progress)
        # The bar is drawn as text inside one fixed-height Static: a ProgressBar
        # widget re-lays out the screen (and redraws the table) on every update.
        finished = p.done + p.unknown
        width = 40
        filled = int(width * finished / p.total) if p.total else width
        t = Text()
        t.append("━" * filled, "bold green")
        t.append("━" * (width - filled), "dim")
        t.append(f" {100 * finished // p.total if p.total else 100}%\n")  # 100% only when all are
        t.append(f"{p.operation.value}: {finished}/{p.total}", "bold")
        if p.cancelling and not p.in_flight:  # nothing more leaves
            t.append(" · cancelled" + (f": {p.left} not sent" if p.left else ""), "bold yellow")
        elif p.left or p.in_flight:  # a rate and an ETA are of a run still going
            t.append(f" · {p.rate:.0f}/s")
            if p.eta is not None and p.left and not p.cancelling:
                t.append(f" · ETA {p.eta:.0f} s")
            t.append(f" · in flight {p.in_flight}")
            if p.cancelling:
                t.append(" · cancelling: in-flight requests finish", "bold yellow")
        else:
            t.append(" · finished")
        if p.paused_for:
            t.append(f" · paused {p.paused_for:.0f} s", "yellow")
        t.append("\n")
        for state, n in sorted(p.states.items(), key=lambda kv: -kv[1]):
            t.append_text(plain(state, 20, "bold green" if state == "active" else "bold"))
            t.append(f" {n}  ")
        failed = p.outcomes.get("failed", 0)
        if failed:
            t.append(f"failed {failed}  ", "red")
        if p.unknown:
            t.append(f"unknown {p.unknown}", "bold yellow")
        # Fixed height (CSS): no layout pass, so the table is not re-laid out and redrawn.
        self.query_one("#bulk-stats", Static).update(t, layout=False)

    def action_escape(self) -> None:
        now = time.monotonic()
        if self.running is not None:
            if self._cancelled_at is None:
                self._cancelled_at = now
                self.running.cancel()
                self.notify(
                    "Cancelling: no new requests; those in flight finish and are recorded. "
                    f"{self.key('bulk_escape')} again abandons them (their outcome is then unknown; "
                    f"{self.key('bulk_resume')} re-checks them).",
                    markup=False,
                    timeout=10,
                )
            else:  # a hung request must not hold the operator for the whole read timeout
                self._abandoned = True
                self.running.abandon()
                self.notify(
                    "Abandoning the requests in flight: their outcome is unknown until the job "
                    f"is resumed ({self.key('bulk_resume')} re-checks them before anything is sent again).",
                    severity="warning",
                    markup=False,
                    timeout=15,
                )
            return
        if self.rows and (self._leave_asked_at is None or now - self._leave_asked_at > LEAVE_WINDOW):
            self._leave_asked_at = now
            jobs = f" Job {self.job_id} stays in the journal (`mobitui jobs`)." if self.job_id is not None else ""
            self.notify(
                f"{self.key('bulk_escape')} again to leave: the pasted list and its results are cleared "
                f"from this screen.{jobs} {self.key('bulk_export')} exports them first.",
                severity="warning",
                markup=False,
                timeout=LEAVE_WINDOW,
            )
            return
        self.dismiss(None)

    # -- export, copy, resume ---------------------------------------------------------
    def action_export(self) -> None:
        if not self.rows:
            self.notify("Nothing to export yet: paste numbers first.", markup=False)
            return
        ids = sorted({r.job_id for r in self.rows if r.job_id is not None})
        name = "paste" if not ids else ("job-" if len(ids) == 1 else "jobs-") + "-".join(map(str, ids[:4]))
        default = str(Path.home() / f"mobitui-{name}-{time.strftime('%Y%m%d-%H%M')}.csv")
        self.app.push_screen(ExportPrompt(default, self.filter), self._export_to)

    def _export_to(self, path: str | None) -> None:
        if path:
            self.write_export(path)

    def export_rows(self) -> list[dict[str, object]]:
        """What the table shows under the current filter, one row per pasted entry with
        its paste line and the newest answer for it (a status check's, or the
        unsubscribe's when one followed), as :mod:`mobitui.core.export` rows."""
        out: list[dict[str, object]] = []
        for position, row in enumerate(self.rows):
            if not row.matches(self.filter):
                continue
            e, r = row.entry, row.result
            out.append(
                {
                    "job_id": row.job_id if r else None,
                    "position": position,
                    "line": e.line,
                    "as_pasted": e.raw,
                    "msisdn": e.msisdn,
                    "verdict": e.verdict,
                    "reason": e.reason or None,
                    "operation": r.operation.value if r else None,
                    "route": r.route.value if r else None,
                    "item_status": "done" if r and r.outcome is not Outcome.UNKNOWN else ("unknown" if r else None),
                    "ok": r.ok if r else None,
                    "outcome": r.outcome.value if r else None,
                    "state": r.state if r else None,
                    "http_status": r.http_status if r else None,
                    "reference": r.reference if r else None,
                    "error": r.error if r else None,
                    "note": None,
                }
            )
        return out

    def write_export(self, path: str) -> None:
        rows = self.export_rows()  # taken on the loop; written by a thread
        self._write_export(path, rows)

    @work(thread=True, exit_on_error=False, group="bulk-export", description="export")
    def _write_export(self, path: str, rows: list[dict[str, object]]) -> None:
        from mobitui.core import export

        try:  # what the screen shows: no journal read needed
            n = export.export_rows(rows, Path(path).expanduser())
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self.notify, f"Export failed: {exc}", severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"Exported {n} rows ({self.filter}) to {path}", markup=False)

    def action_copy_numbers(self) -> None:
        numbers = [r.entry.msisdn for r in self.rows if r.matches(self.filter) and r.entry.msisdn]
        self.app.copy_out("\n".join(numbers), f"{len(numbers)} numbers ({self.filter})")  # type: ignore[attr-defined]

    @work(exclusive=True, group="bulk-jobs", exit_on_error=False, description="looking for interrupted jobs")
    async def find_interrupted(self) -> None:
        from mobitui.core.job_service import JobService
        from mobitui.core.journal import JournalFault

        service = await self.core()
        try:
            jobs = await service.in_journal(JobService.interrupted)
        except JournalFault:
            logger.debug("interrupted jobs not read", exc_info=True)
            return  # the console's journal banner already says why
        self.interrupted = [j.id for j in jobs if j.campaign_id == self.campaign.campaign_id]
        self._interrupted_info = {j.id: j for j in jobs}
        self.refresh_bindings()
        if self.interrupted:
            j = next(j for j in jobs if j.id == self.interrupted[0])
            self.notify(
                f"Job {j.id} ({j.operation.value}, {j.total} numbers) was interrupted. "
                f"{self.key('bulk_resume')} resumes it: numbers done are not sent again; those in flight are "
                "re-checked first.",
                severity="warning",
                markup=False,
                timeout=20,
            )

    def action_resume(self) -> None:
        from mobitui.core.client import unsubscribe_effect

        if self.running is not None or not self.interrupted:
            return
        job_id = self.interrupted[0]
        info = self._interrupted_info.get(job_id)
        if info is None:  # not read yet: never resume without knowing what the job sends
            self.find_interrupted()
            return
        if info.operation is not Operation.UNSUBSCRIBE:
            self._resume(job_id)
            return
        refused = self.jobs.refusal(info.operation, job_id)
        if refused is not None:
            self.notify(refused, severity="error", markup=False)
            return
        # Resuming an unsubscribe job texts subscribers: the same typed count as a new one.
        c = info.counts.status
        count = c.get("pending", 0) + c.get("unknown", 0) + c.get("in_flight", 0)
        which = f"job {job_id}, resumed: those with an unknown outcome are re-checked first"

        def answered(ok: bool | None) -> None:
            if ok:
                self._resume(job_id)
            else:
                self.notify("Cancelled: nothing was sent.", markup=False)

        self.app.push_screen(
            BulkUnsubscribeConfirm(self.campaign, count, unsubscribe_effect(self.campaign), which), answered
        )

    def _resume(self, job_id: int) -> None:
        if self.running is not None or job_id not in self.interrupted:
            return
        self.interrupted.remove(job_id)
        self.refresh_bindings()
        # After a restart the screen is empty: the job's numbers, and what became of
        # those done before the interruption, come from the journal first.
        self.load_job(job_id, self._parse_generation, rows=not self.rows, then_resume=True)

    @work(thread=True, group="bulk-load", exit_on_error=False, description="reading the job from the journal")
    def load_job(self, job_id: int, generation: int, rows: bool, then_resume: bool = False) -> None:
        """The job's items from the journal (its own connection, on this thread)."""
        stored = self.jobs.read(job_id, entries=rows)
        self.app.call_from_thread(self._job_loaded, job_id, generation, stored.entries, stored.results, then_resume)

    def _job_loaded(
        self,
        job_id: int,
        generation: int,
        entries: list[paste.Entry] | None,
        results: dict[str, Result],
        then_resume: bool,
    ) -> None:
        if generation != self._parse_generation and entries is None:
            return  # pasted anew meanwhile: these answers belong to other rows
        if entries is not None:
            self.rows = [Row(i, e) for i, e in enumerate(entries)]
            self.table = None
            self.by_msisdn = {r.entry.msisdn: r for r in self.rows if r.entry.usable and r.entry.msisdn}
            self._stale.clear()
        for msisdn, result in results.items():
            row = self.by_msisdn.get(msisdn)
            if row is not None and row.result is None:  # what this screen saw is never older
                row.answered(result, job_id)
                self._dirty.add(msisdn)
        self.job_id = job_id
        if entries is not None:
            self._summary()
            self._fill()
        else:
            self._refresh_rows()
        if then_resume:
            self.start_job(Operation.STATUS, [], None, resume_id=job_id)
