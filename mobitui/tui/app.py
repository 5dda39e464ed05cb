"""The operator console.

A thin layer over the core: every call goes through :class:`Service` in a
worker, answers come back as method calls on the widgets, and nothing here
parses or decides what a response means.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Header, Input, Static, TextArea
from textual.worker import Worker, WorkerState

from mobitui.core.config import Campaign, ConfigError, ConfigMissing
from mobitui.core.journal import Journal, JournalFault
from mobitui.core.recorder import Exchange, Recorder
from mobitui.core.results import Result
from mobitui.core.secrets import KeyLookup
from mobitui.runtime import Runtime
from mobitui.tui.memory import Memory
from mobitui.tui.safe import plain
from mobitui.tui.screens.confirm import UnsubscribeConfirm
from mobitui.tui.screens.exchange import ExchangeDetail
from mobitui.tui.screens.help import HelpScreen
from mobitui.tui.screens.problem import ProblemScreen
from mobitui.tui.terminal_keys import keep_esc_before_characters
from mobitui.tui.widgets.campaigns import CampaignPane
from mobitui.tui.widgets.everywhere import EverywhereTable
from mobitui.tui.widgets.lookup import LookupBar
from mobitui.tui.widgets.request_log import RequestLog
from mobitui.tui.widgets.status import StatusPanel

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.driver import Driver

    from mobitui.core.job_service import JobService
    from mobitui.core.jobs import JobInfo
    from mobitui.core.service import Service


def styles_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    packaged = here / "styles"
    return packaged if packaged.is_dir() else here.parent / "styles"


LOG_MIN, LOG_MAX = 4, 40
logger = logging.getLogger(__name__)
JOURNAL_RETRY = 5.0  # seconds between attempts to reach a journal that could not be used
# The console's busy timeout, on the journal's own thread: short, so that a lookup
# made while another process holds the lock is shown within this, unrecorded
# (a bulk job's writes hold the lock for milliseconds).
JOURNAL_BUSY_TIMEOUT = 2.0


class CoreUnavailable(Exception):
    """The core could not be started; the message says why."""


class MobituiApp(App[str]):
    CSS_PATH = [str(styles_dir() / "app.tcss")]
    TITLE = "mobitui"
    ENABLE_COMMAND_PALETTE = True
    # Keys typed while the console starts go to the MSISDN field, not to the first
    # focusable widget (the campaign filter, where a number emptied the list).
    AUTO_FOCUS = "#msisdn"

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False, id="help_question"),
        Binding("ctrl+r", "refresh", "Re-check", id="refresh"),
        Binding("ctrl+g", "everywhere", "All campaigns", id="everywhere"),
        Binding("ctrl+o", "unsubscribe", "Unsubscribe", id="unsubscribe"),
        Binding("ctrl+f", "filter", "Campaigns", id="filter", priority=True),
        Binding("ctrl+l", "toggle_log", "Log", id="toggle_log"),
        Binding("ctrl+n", "bulk", "Bulk", id="bulk", priority=True),
        Binding("f6", "focus_log", "Focus log", show=False, id="focus_log", priority=True),
        # Priority (here and for the keys that move focus above): run as the key is
        # read, before the keys typed after it are routed to whatever had focus.
        Binding("escape", "focus_lookup", "Back to lookup", show=False, id="focus_lookup", priority=True),
    ]

    def __init__(
        self,
        runtime: Runtime | None,
        *,
        problem: Exception | None = None,
        campaign: str | None = None,
        read_only: bool = False,
        clock: Callable[[], float] = time.time,
        transport: object | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.problem = problem
        self.clock = clock
        self._transport = transport  # tests and screenshots: an in-process simulator
        self.service: Service | None = None
        self.jobs: JobService | None = None  # bulk jobs: created, run, resumed and read through it
        self.key: KeyLookup | None = None
        self._generation = 0
        self.target: tuple[Campaign, str] | None = None
        self._core_failure: str | None = None
        self._told_interrupted = False
        self.journal_fault: JournalFault | None = None  # shown in #journal-banner while set
        self._journal_retry: Timer | None = None  # one pending retry at most
        self._startup_notice: str | None = None  # e.g. --campaign named no campaign
        self.key_notice: str | None = None  # the whole "no API key" problem, repeated in help
        if runtime is None:
            return
        cfg = runtime.config
        self.config = cfg
        self.read_only = read_only or cfg.ui.read_only
        from mobitui.core.job_service import JobService

        self.jobs = JobService(
            cfg, runtime.journal_path, read_only=self.read_only, demo=runtime.demo, transport=transport
        )
        self.memory = Memory.load(runtime.demo)
        self.campaign = self._initial_campaign(campaign)

    # -- keys typed fast ----------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """Keys and pastes that would be lost or changed on the main screen go where
        the operator meant them (README "Keys"):

        * Esc followed within ``ESCDELAY`` (100 ms) by a key reaches us as one
          ``alt+<key>`` (that is how terminals send Alt): when nothing is bound to
          it, it is taken as the Esc and then the key it was typed with.
        * A number typed or pasted while the campaign list or the request log has
          focus goes to the MSISDN field (focus moves there first, and the field
          starts empty), instead of into a widget that drops it.
        """
        if (
            isinstance(event, (events.Key, events.Paste))
            and not event.is_forwarded
            and self.runtime is not None
            and len(self.screen_stack) == 1
        ):
            if isinstance(event, events.Key) and self._is_esc_then_key(event):
                await super().on_event(events.Key("escape", "\x1b"))
                char = event.character or ""
                event = events.Key(char if char.isalnum() else event.key.removeprefix("alt+"), char)
            if isinstance(event, events.Key) and event.key == "enter" and self._choose_from_filter():
                return
            if isinstance(event, events.Key) and self.read_only and self._is_unsubscribe_key(event.key):
                from mobitui.core.readonly import refusal

                # The action is absent in read-only (footer, palette); its key still says why.
                self.notify(refusal("unsubscribe"), severity="warning", markup=False)
                return
            self._route_number_to_lookup(event)
        await super().on_event(event)

    def _is_unsubscribe_key(self, key: str) -> bool:
        return any(b.action == "unsubscribe" for b in self._bindings.key_to_bindings.get(key, ()))

    def _choose_from_filter(self) -> bool:
        """Enter in the campaign filter: the first match becomes the campaign and the
        MSISDN field takes focus, both before the next key is read (the number typed
        next is looked up in that campaign). False when the filter has no focus."""
        pane = self.query_one("#campaigns", CampaignPane)
        if self.focused is not pane.query_one("#campaign-filter", Input):
            return False
        chosen = pane.choose_highlighted()
        if chosen is None:
            return True  # no match: nothing to choose, the key is spent
        self._campaign_selected(CampaignPane.Selected(chosen, chosen=True))
        return True

    def _is_esc_then_key(self, event: events.Key) -> bool:
        if not event.key.startswith("alt+") or not event.character or len(event.character) != 1:
            return False
        if not event.character.isprintable():
            return False
        return not any(event.key in bindings.key_to_bindings for _, bindings in self.screen._binding_chain)

    def _route_number_to_lookup(self, event: events.Key | events.Paste) -> None:
        focused = self.focused
        if isinstance(focused, (Input, TextArea)):
            return
        text = event.text if isinstance(event, events.Paste) else (event.character or "")
        first = text.strip()[:1]
        if not first or not (first.isdigit() or first in "+(\u202a\u200e"):  # not Enter, Tab, a letter
            return
        if isinstance(event, events.Key) and len(text) != 1:
            return
        field = self.query_one("#lookup", LookupBar).input
        self.set_focus(field)
        field.value = ""  # a number typed from outside the field is a new one, not more of the old
        field.reset_recall()

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this platform; on Linux and macOS one whose input thread
        survives bytes that are not UTF-8 (see :mod:`mobitui.tui.driver`)."""
        from textual.drivers.linux_driver import LinuxDriver

        driver = super().get_driver_class()
        if driver is LinuxDriver:
            from mobitui.tui.driver import TerminalDriver

            return TerminalDriver
        return driver

    def panic(self, *renderables: RenderableType) -> None:
        """Exit after an unexpected failure (Textual's input thread dying, say) with
        return code 1: Textual's own panic leaves it at 0, which a script or a
        supervisor would read as a clean exit."""
        if not self.return_code:
            self.exit(return_code=1)
        super().panic(*renderables)

    # -- set-up ----------------------------------------------------------------
    def _initial_campaign(self, wanted: str | None) -> Campaign:
        cfg = self.config
        if wanted:
            try:
                return cfg.campaign(wanted)
            except KeyError as exc:
                self._startup_notice = str(exc.args[0])
        if self.memory.last_campaign:
            try:
                return cfg.campaign(self.memory.last_campaign)
            except KeyError:
                logger.debug("the last campaign used is no longer configured", exc_info=True)
        return cfg.campaigns[0]

    def compose(self) -> ComposeResult:
        yield Header()
        if self.runtime is None:
            return
        if self.runtime.demo:
            yield Static(
                "DEMO  built-in simulator, demo account and key: no real subscriber is touched",
                id="demo-banner",
            )
        if self.read_only:
            yield Static("READ-ONLY  unsubscribing is switched off", id="readonly-banner")
        yield Static(id="notice")
        yield Static(id="journal-banner")
        with Horizontal(id="main"):
            yield CampaignPane(self.config.campaigns, self.campaign, id="campaigns")
            with Vertical(id="work"):
                yield LookupBar(self.memory.recent, id="lookup")
                with ContentSwitcher(initial="status", id="switcher"):
                    yield StatusPanel(self.clock, self.config.states, demo=self.runtime.demo, id="status")
                    yield EverywhereTable(id="everywhere")
        self.request_log = RequestLog(self.config.ui.log_limit, id="log")
        yield self.request_log
        yield Footer()

    def _key_clashes(self, keymap: dict[str, str]) -> list[str]:
        """What :func:`mobitui.tui.keymap.clashes` finds for ``keymap`` in each place."""
        from mobitui.tui.keymap import clashes
        from mobitui.tui.screens.bulk import BulkScreen, ExportPrompt
        from mobitui.tui.screens.bulk_confirm import BulkUnsubscribeConfirm
        from mobitui.tui.widgets.lookup import MsisdnInput

        app = self.BINDINGS
        # Off the main screen its actions are switched off (check_action), so their keys
        # are free there: everywhere = "f5" beside the bulk screen's F5 is no clash.
        elsewhere = [b for b in app if isinstance(b, Binding) and b.action not in self.MAIN_SCREEN_ACTIONS]
        return clashes(
            keymap,
            {
                "main screen": [app, MsisdnInput.BINDINGS],
                "request log": [app, RequestLog.BINDINGS],
                "bulk screen": [elsewhere, BulkScreen.BINDINGS],
                "unsubscribe dialog": [elsewhere, UnsubscribeConfirm.BINDINGS],
                "bulk unsubscribe dialog": [elsewhere, BulkUnsubscribeConfirm.BINDINGS],
                "export dialog": [elsewhere, ExportPrompt.BINDINGS],
                "exchange view": [elsewhere, ExchangeDetail.BINDINGS],
                "help": [elsewhere, HelpScreen.BINDINGS],
                "problem screen": [elsewhere, ProblemScreen.BINDINGS],
            },
        )

    def on_mount(self) -> None:
        keep_esc_before_characters()
        self._catch_signals()
        if self.runtime is None:
            self._show_problem()
            return
        cfg = self.config
        if cfg.ui.keys:
            clashing = self._key_clashes(cfg.ui.keys)
            if clashing:
                self.notify(
                    "[ui.keys] not applied, the default keys are in use: "
                    + "; ".join(clashing)
                    + ". Give one of each pair another key.",
                    severity="error",
                    timeout=60,
                    markup=False,
                )
            else:
                self.set_keymap(cfg.ui.keys)
        try:
            self.theme = cfg.ui.theme
        except Exception:  # an unknown theme name must not stop the console
            logger.debug("theme %r refused", cfg.ui.theme, exc_info=True)
            self.notify(f"Unknown theme {cfg.ui.theme!r}; using the default.", severity="warning", markup=False)
        self._core_ready = asyncio.Event()
        self.query_one("#journal-banner", Static).display = False
        self._select(self.campaign)
        self.query_one("#lookup", LookupBar).input.focus()
        if self._startup_notice:
            self.notify(self._startup_notice, severity="warning", markup=False)
        # The first frame comes first: the HTTP stack, the journal, the demo
        # simulator and the keyring are brought up right after it, off the loop.
        self.call_after_refresh(self.start_core)
        self.call_after_refresh(self.find_key)
        if cfg.ui.refresh_interval > 0:
            self.set_interval(cfg.ui.refresh_interval, self._poll_status)
        self.set_interval(1.0, self._tick)
        self.on_resize()
        report = os.environ.get("MOBITUI_STARTUP_REPORT")  # bench/startup.py
        if report:
            self.call_after_refresh(self._report_first_frame, report)

    def _catch_signals(self) -> None:
        """SIGTERM and SIGHUP (a closed SSH session, `kill`) end the console the way
        ctrl+q does: the terminal is given back (alternate screen left, mouse
        reporting off) and one line says what happened."""
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, self._stopped_by, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not Unix, or not the main thread
                logger.debug("no handler for signal %s", sig, exc_info=True)

    def _stopped_by(self, sig: int) -> None:
        import signal

        name = signal.Signals(sig).name
        self.exit(
            "signal",
            return_code=128 + sig,
            message=f"mobitui: stopped by {name}. Whatever was sent is in the journal; "
            "an interrupted bulk job resumes with `mobitui resume JOB`.",
        )

    def _report_first_frame(self, path: str) -> None:
        Path(path).write_text(f"{time.time():.6f}")
        self.exit("quit")

    @work(thread=True, exit_on_error=False, group="core", description="starting the core")
    def start_core(self) -> None:
        """The HTTP stack and the demo simulator. The journal is not opened here: it
        lives on a thread of its own (JournalThread), opened by its first call, so
        a locked, full or read-only journal is a state shown and retried, not a
        failed start."""
        assert self.runtime is not None
        from mobitui.core.journal import JournalThread
        from mobitui.core.service import Service

        try:
            cfg = self.config
            self.runtime.ensure_started()
            recorder = Recorder(keep=cfg.ui.log_limit)
            recorder.subscribe(self._on_exchange)
            service = Service.open(
                cfg,
                None,
                JournalThread(self.runtime.journal_path, timeout=JOURNAL_BUSY_TIMEOUT),
                recorder=recorder,
                demo=self.runtime.demo,
                transport=self._transport,
            )
        except Exception as exc:  # every lookup waiting for the core is told, none spins for ever
            logger.debug("the core could not be started", exc_info=True)
            self.call_from_thread(self._core_failed, f"{type(exc).__name__}: {exc}")
            return
        self.call_from_thread(self._core_started, service)

    def _core_failed(self, why: str) -> None:
        self._core_failure = why
        self._core_ready.set()
        self.notify(
            f"The console could not start its core: {why}. Restart mobitui; nothing was sent.",
            severity="error",
            markup=False,
            timeout=30,
        )

    def _core_started(self, service: Service) -> None:
        self.service = service
        if self.key is not None and self.key.key:
            service.client.set_api_key(self.key.key)
        self._core_ready.set()
        self.check_journal()

    async def core(self) -> Service:
        """The service, once started (a lookup typed in the first instant waits for it).
        Raises CoreUnavailable when it could not be started."""
        await self._core_ready.wait()
        if self.service is None:
            raise CoreUnavailable(self._core_failure or "the core is not running")
        return self.service

    # -- the journal's state -------------------------------------------------------
    @work(exclusive=True, group="journal", exit_on_error=False, description="opening the journal")
    async def check_journal(self) -> None:
        """Reach the journal (on its thread); while it cannot be used, say so and try
        again every JOURNAL_RETRY seconds."""
        from mobitui.core.job_service import JobService

        service = self.service
        if service is None:
            return

        def probe(j: Journal) -> list[JobInfo]:
            j.check_writable()  # reads may work while writes cannot (a held lock, a full disk)
            return JobService.interrupted(j)

        try:
            jobs = await service.in_journal(probe)
        except JournalFault as exc:
            self.show_journal_state(exc)
            return
        self.show_journal_state(None)
        if not self._told_interrupted:  # once, when the journal is first reached
            self._told_interrupted = True
            self._tell_about_interrupted_jobs(jobs)

    def show_journal_state(self, fault: JournalFault | None) -> None:
        """The journal banner: shown while the journal cannot be written, with the cause
        and the way out; a retry is scheduled. Hidden once a write succeeds."""
        was = self.journal_fault
        self.journal_fault = fault
        if (was is None) != (fault is None):
            logger.debug("journal banner %s: %s", "shown" if fault else "hidden", fault or "writable again")
        banners = list(self.query("#journal-banner").results(Static))
        if fault is None:
            for b in banners:
                b.display = False
            if was is not None:
                self.notify(f"The journal {was.path} can be written again.", markup=False)
            return
        text = plain(
            f"JOURNAL UNAVAILABLE  {fault}. Status checks still work but are not recorded; "
            f"unsubscribing is refused until the journal can be written (retrying every {JOURNAL_RETRY:g} s).",
            1000,
        )
        for b in banners:
            b.update(text)
            b.display = True
        if was is None or was.kind != fault.kind:
            self.notify(str(fault), severity="error", markup=False, timeout=20)
        # Every failed write reports here (each lookup, each refresh): one retry is
        # enough; a timer per report would pile up retries while the journal is down.
        if self._journal_retry is None:
            self._journal_retry = self.set_timer(JOURNAL_RETRY, self._retry_journal)

    def copy_out(self, text: str, what: str) -> None:
        """Copy for the operator: OSC 52 now (it only writes to the terminal), tmux's
        buffer from a thread (a subprocess that a hung tmux could hold for seconds),
        then one message saying what happened (see :mod:`mobitui.tui.clipboard`)."""
        self.copy_to_clipboard(text)
        self._copy_to_tmux(text, what)

    @work(thread=True, group="copy", exit_on_error=False, description="copying into tmux's buffer")
    def _copy_to_tmux(self, text: str, what: str) -> None:
        from mobitui.tui.clipboard import describe, to_tmux

        message, warn = describe(what, to_tmux(text))
        self.call_from_thread(self.notify, message, severity="warning" if warn else "information", markup=False)

    def _retry_journal(self) -> None:
        self._journal_retry = None
        self.check_journal()

    def _show_problem(self) -> None:
        exc = self.problem
        if isinstance(exc, ConfigMissing) and not exc.explicit:
            title = "No configuration yet"
            detail = f"mobitui looked for {exc.path} and found nothing."
            way = (
                "Create it:  " + exc.create_command(exc.path) + "\n"
                "then edit account_id and campaigns, and store the key with  mobitui auth set\n\n"
                "Or press d to try the console against the built-in simulator (mobitui --demo)."
            )
        elif isinstance(exc, ConfigError):
            title = "The configuration cannot be used"
            detail = str(exc)
            way = "Fix the file and start mobitui again, or press d for the demo."
        else:
            title = "mobitui could not start"
            detail = f"{type(exc).__name__}: {exc}"
            way = "Press d for the demo, or q to quit."

        def done(choice: str | None) -> None:
            self.exit(choice or "quit")

        self.push_screen(ProblemScreen(title, detail, way), done)

    async def on_unmount(self) -> None:
        if self.jobs is not None:
            self.jobs.close()  # an unused spare job process
        if self.service is not None:
            await self.service.aclose()
            self.service.journal.close()

    def on_resize(self, event: events.Resize | None = None) -> None:
        # The event's size, not self.size: during the Resize handler self.size can
        # still be the old one, which left the layout one resize behind.
        size = event.size if event is not None else self.size
        self.set_class(size.width < 100, "-narrow")
        self.set_class(size.height < 30, "-short")

    # -- the API key -------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="key", description="looking up the API key")
    def find_key(self) -> None:
        assert self.runtime is not None
        lookup = self.runtime.key()
        self.call_from_thread(self._key_found, lookup)

    def _key_found(self, lookup: KeyLookup) -> None:
        self.key = lookup
        if self.service is not None and lookup.key:
            self.service.client.set_api_key(lookup.key)
        notice = self.query_one("#notice", Static)
        if lookup.key:
            notice.display = False
            return
        gateway = [c.name for c in self.config.campaigns if c.unsubscribe_via.needs_key]
        self.key_notice = plain(  # the keyring's own error text is in it: inert, like server text
            (lookup.problem or "No API key.")
            + " Status checks work without a key"
            + (f"; unsubscribing in {', '.join(gateway)} needs one." if gateway else "."),
            2000,
        ).plain
        # Told once in full; then one line that stays, so the state below is not
        # pushed off an 80x24 screen (F1 repeats the whole text).
        self.notify(self.key_notice, title="No API key", severity="warning", timeout=20, markup=False)
        notice.update(
            plain(
                "No API key: status only"
                + (", no gateway unsubscribe" if gateway else "")
                + ". F1 says how to set one.",
                200,
            )
        )  # fits 80 columns
        notice.display = True

    # -- campaign ----------------------------------------------------------------
    @on(CampaignPane.Selected)
    def _campaign_selected(self, event: CampaignPane.Selected) -> None:
        self._select(event.campaign)
        if event.chosen:  # Enter in the filter or the list: the number comes next
            self.action_focus_lookup()
        # The panels always speak of the selected campaign: follow the number there.
        if self.target is not None and self.target[0].campaign_id != event.campaign.campaign_id:
            self.target = (event.campaign, self.target[1])
            if self.query_one("#switcher", ContentSwitcher).current == "status":
                self._check(refresh=False)

    def _select(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.memory.remember_campaign(campaign.campaign_id)
        self.sub_title = campaign.name + ("  [read-only]" if self.read_only else "")
        self.query_one("#lookup", LookupBar).set_country(campaign.country)

    # The focus moves below are made at once (App.set_focus), not as Widget.focus()
    # does, after the events already queued: keys typed right after the shortcut
    # belong to the widget it moves to.
    def action_filter(self) -> None:
        self.set_focus(self.query_one("#campaign-filter", Input))

    def action_focus_lookup(self) -> None:
        """Esc: to the MSISDN field, its text selected, so a number typed next replaces it."""
        field = self.query_one("#lookup", LookupBar).input
        self.set_focus(field)
        field.select_all()

    # -- lookup ------------------------------------------------------------------
    @on(Input.Submitted, "#msisdn")
    def _submitted(self) -> None:
        self.action_lookup()

    def _number(self) -> str | None:
        bar = self.query_one("#lookup", LookupBar)
        p = bar.parsed()
        if not p.usable:
            self.notify(f"Not a usable number: {p.reason}", severity="error", markup=False)
            return None
        bar.input.reset_recall()
        return p.msisdn

    def action_lookup(self) -> None:
        msisdn = self._number()
        if msisdn is None:
            return
        self.memory.remember_number(msisdn)
        self.target = (self.campaign, msisdn)
        self.query_one("#switcher", ContentSwitcher).current = "status"
        self._check(refresh=False)

    def action_refresh(self) -> None:
        if self.target is None:
            self.action_lookup()
        else:
            self._check(refresh=True)

    def _check(self, refresh: bool) -> None:
        assert self.target is not None
        self._generation += 1
        campaign, msisdn = self.target
        self.run_status(campaign, msisdn, self._generation, refresh)

    @work(exclusive=True, group="status", exit_on_error=False, description="status check")
    async def run_status(self, campaign: Campaign, msisdn: str, generation: int, refresh: bool) -> None:
        panel = self.query_one("#status", StatusPanel)
        panel.show_loading(campaign, msisdn, refresh, self.config.network)
        try:
            service = await self.core()
            result = await service.status(campaign, msisdn)
        except Exception as exc:  # the panel never stays "checking" for good
            if generation == self._generation:
                panel.show_failure(f"{type(exc).__name__}: {exc}" if not isinstance(exc, CoreUnavailable) else str(exc))
            raise
        finally:
            if generation == self._generation:
                panel.busy = False  # cancelled or failed: live refresh carries on
        self._after_journal_write(service)
        if generation != self._generation:
            return  # a newer lookup has started: this answer is stale
        panel.show(campaign, result)
        self.query_one("#campaigns", CampaignPane).set_server_info(campaign.campaign_id, result.answer)
        if result.journal_error:
            self.notify(
                f"The check of {msisdn} could not be journalled: {plain(result.journal_error, 200).plain}",
                severity="warning",
                markup=False,
            )

    def _poll_status(self) -> None:
        panel = next(self.query("#status").results(StatusPanel), None)
        if (
            self.target is None
            or panel is None
            or panel.busy
            or self.screen is not self.screen_stack[0]
            or self.query_one("#switcher", ContentSwitcher).current != "status"
        ):
            return
        self._check(refresh=True)

    def _tick(self) -> None:
        # query(), not query_one(): during shutdown the widgets may already be gone.
        for panel in self.query("#status").results(StatusPanel):
            panel.tick()

    # -- every campaign ----------------------------------------------------------
    def action_everywhere(self) -> None:
        msisdn = self._number()
        if msisdn is None:
            return
        self.memory.remember_number(msisdn)
        self.query_one("#switcher", ContentSwitcher).current = "everywhere"
        self.run_everywhere(msisdn)

    @work(exclusive=True, group="everywhere", exit_on_error=False, description="check in every campaign")
    async def run_everywhere(self, msisdn: str) -> None:
        table = self.query_one("#everywhere", EverywhereTable)
        table.start(msisdn, self.config.campaigns)
        service = await self.core()

        async def one(c: Campaign) -> None:
            table.put(await service.status(c, msisdn))

        await asyncio.gather(*(one(c) for c in self.config.campaigns))
        self._after_journal_write(service)

    def _after_journal_write(self, service: Service) -> None:
        """Show (or clear) the journal banner after calls that wrote to the journal."""
        fault = service.journal_fault
        if fault is not None:
            self.show_journal_state(fault)
        elif self.journal_fault is not None:
            self.check_journal()

    # -- unsubscribe ---------------------------------------------------------------
    MAIN_SCREEN_ACTIONS = frozenset(
        {"refresh", "everywhere", "unsubscribe", "filter", "toggle_log", "focus_log", "focus_lookup", "bulk"}
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unsubscribe" and getattr(self, "read_only", False):
            return False
        if action in self.MAIN_SCREEN_ACTIONS and (self.runtime is None or len(self.screen_stack) > 1):
            return False  # these act on the main screen's widgets, not on a dialog or the bulk screen
        return True

    def _shown_target(self) -> tuple[Campaign, str] | None:
        """The number and campaign the status panel shows (what ctrl+o acts on)."""
        if self.target is None or self.query_one("#switcher", ContentSwitcher).current != "status":
            return None
        return self.target

    def action_unsubscribe(self) -> None:
        if self.read_only:
            return
        if self.service is None:
            if self._core_failure:
                self.notify(f"The core could not start: {self._core_failure}", severity="error", markup=False)
            else:
                self.notify("Still starting up; try again in a moment.", markup=False)
            return
        if self.journal_fault is not None:
            self.notify(
                f"Not sent: an unsubscribe is written to the journal before it is sent, and {self.journal_fault}",
                severity="error",
                markup=False,
                timeout=20,
            )
            return
        # The number in the panel, never what is half-typed in the field.
        target = self._shown_target()
        if target is None:
            self.notify(
                "Look a number up first (Enter): unsubscribe acts on the number shown in the status panel.",
                markup=False,
            )
            return
        campaign, msisdn = target
        if self._refuse_in_flight(campaign, msisdn):
            return
        self.prepare_unsubscribe(campaign, msisdn)

    def _refuse_in_flight(self, campaign: Campaign, msisdn: str) -> bool:
        since = self.query_one("#status", StatusPanel).in_flight(campaign.campaign_id, msisdn)
        if since is None:
            return False
        self.notify(
            f"An unsubscribe of {msisdn} in {campaign.name} is in flight (sent {int(self.clock() - since)} s ago); "
            "not sent again. Its answer will show in the panel.",
            severity="warning",
            markup=False,
        )
        return True

    @work(group="unsubscribe-dialog", exclusive=True, exit_on_error=False, description="reading the journal")
    async def prepare_unsubscribe(self, campaign: Campaign, msisdn: str) -> None:
        """The dialog, with the number's last known state and its recent stops from the journal."""
        import sqlite3

        from mobitui.core.service import RECENT_UNSUBSCRIBE

        service = await self.core()
        recent, problem = None, None
        try:
            recent = await service.recent_unsubscribes(campaign, msisdn, RECENT_UNSUBSCRIBE)
        except sqlite3.Error as exc:
            problem = str(exc)
        panel = self.query_one("#status", StatusPanel)
        known = panel.result
        if known is None or (known.campaign_id, known.msisdn) != (campaign.campaign_id, msisdn):
            known = None
        plan = service.plan_unsubscribe(campaign, msisdn)
        dialog = UnsubscribeConfirm(
            campaign, msisdn, plan, known=known, recent=recent, journal_problem=problem, clock=self.clock
        )

        def answered(confirmed: bool | None) -> None:
            if not confirmed:
                self.notify("Cancelled: nothing was sent.", markup=False)
            elif not self._refuse_in_flight(campaign, msisdn):
                self.run_unsubscribe(campaign, msisdn, again=dialog.needs_again)

        if len(self.screen_stack) > 1:  # another dialog or screen came up meanwhile
            return
        self.push_screen(dialog, answered)

    @work(group="unsubscribe", exit_on_error=False, description="unsubscribe")
    async def run_unsubscribe(self, campaign: Campaign, msisdn: str, again: bool = False) -> None:
        panel = self.query_one("#status", StatusPanel)
        panel.unsubscribe_started(campaign, msisdn)
        service = None
        try:
            service = await self.core()
            result = await service.unsubscribe(campaign, msisdn, again=again)
        except Exception as exc:
            from mobitui.core.results import Operation, Outcome

            logger.debug("unsubscribe of %s failed in the console", msisdn, exc_info=True)

            result = Result(
                msisdn,
                campaign.campaign_id,
                Operation.UNSUBSCRIBE,
                campaign.unsubscribe_via,
                Outcome.UNKNOWN,
                error=f"mobitui failed while unsubscribing ({type(exc).__name__}); "
                "the request may have left: outcome unknown, check status.",
            )
        panel.unsubscribe_finished(campaign, result)
        self._notify_result(campaign, result)
        if service is not None and service.journal_fault is not None:
            self.show_journal_state(service.journal_fault)  # the banner, and the retries until it works
        shown = self._shown_target()
        if shown is not None and (shown[0].campaign_id, shown[1]) == (campaign.campaign_id, msisdn):
            self._check(refresh=True)  # only the number it concerns, if it is still the one shown

    def _notify_result(self, campaign: Campaign, result: Result) -> None:
        what = f"Unsubscribe of {result.msisdn} in {campaign.name}"
        if result.ok and result.journal_error:
            self.notify(
                f"{what} accepted, could not be journalled: {plain(result.journal_error, 200).plain}. "
                "The journal's row says 'attempted'; do not send it again.",
                severity="warning",
                markup=False,
                timeout=20,
            )
        elif result.ok:
            self.notify(f"{what} accepted.", markup=False)
        else:
            text = plain(result.error, 300).plain
            if result.journal_error:
                text += f" (could not be journalled: {plain(result.journal_error, 200).plain})"
            self.notify(
                f"{what}: {text}",
                severity="warning" if result.outcome.value == "unknown" else "error",
                markup=False,
                timeout=15,
            )

    # -- bulk ------------------------------------------------------------------------
    def action_bulk(self, pasted: str | None = None) -> None:
        from mobitui.tui.screens.bulk import BulkScreen

        assert self.jobs is not None
        self.push_screen(
            BulkScreen(self.campaign, self.core, self.jobs, lambda: self.key.key if self.key else None, pasted)
        )
        self.prepare_job_process()

    def prepare_job_process(self) -> None:
        """A spare process for the next bulk job: it imports the core while the
        operator pastes, so a run starts at once (from the main thread: see
        :meth:`JobService.prepare <mobitui.core.job_service.JobService.prepare>`)."""
        if self.jobs is not None:
            self.jobs.prepare()

    def _key_of(self, binding_id: str) -> str:
        """The first key in effect for one of the app's own bindings."""
        for key, active in self.active_bindings.items():
            if active.node is self and active.binding.id == binding_id:
                return key
        return next((b.key for b in self.BINDINGS if isinstance(b, Binding) and b.id == binding_id), "?")

    def _tell_about_interrupted_jobs(self, jobs: list[JobInfo]) -> None:
        from mobitui.tui.screens.bulk import key_name

        if jobs:
            ids = ", ".join(str(j.id) for j in jobs[:5])
            self.notify(
                f"Interrupted bulk job(s) {ids}: open Bulk ({self._key_of('bulk')}) in the job's campaign and "
                f"press {key_name(self._keymap, 'bulk_resume')}, "
                "or run `mobitui resume JOB`. Nothing done is sent again.",
                severity="warning",
                markup=False,
                timeout=30,
            )

    # -- request log ---------------------------------------------------------------
    def _on_exchange(self, exchange: Exchange) -> None:
        self.request_log.queue(exchange)  # on the main screen, whichever screen is shown

    @on(RequestLog.Open)
    def _open_exchange(self, event: RequestLog.Open) -> None:
        self.push_screen(ExchangeDetail(event.exchange))

    @on(RequestLog.Resize)
    def _resize_log(self, event: RequestLog.Resize) -> None:
        log = self.query_one("#log", RequestLog)
        current = log.styles.height.value if log.styles.height is not None else 8
        log.styles.height = int(max(LOG_MIN, min(LOG_MAX, current + event.step)))

    def action_toggle_log(self) -> None:
        log = self.query_one("#log", RequestLog)
        log.display = not log.display
        if not log.display and log.has_focus:
            self.action_focus_lookup()

    def action_focus_log(self) -> None:
        log = self.query_one("#log", RequestLog)
        log.display = True
        self.set_focus(log)

    # -- help and palette ----------------------------------------------------------
    def key_rows(self) -> list[tuple[str, str, str]]:
        """Every key, from the live bindings (so remapped keys show as remapped)."""
        from mobitui.tui.screens.bulk import help_rows as bulk_help_rows

        by_action: dict[str, list[str]] = {}
        described: dict[str, str] = {}
        for key, active in self.active_bindings.items():
            b = active.binding
            if active.node is not self or not active.enabled:
                continue
            by_action.setdefault(b.action, []).append("?" if key == "question_mark" else key)
            described.setdefault(b.action, b.description or b.action)
        rows = [(" / ".join(keys), "anywhere", described[action]) for action, keys in by_action.items()]
        rows += [
            ("enter", "MSISDN", "look the number up in the selected campaign"),
            ("up / down", "MSISDN", "recall recent numbers"),
            ("enter", "campaign filter", "choose the first match"),
            ("enter", "request log", "open the exchange in full"),
            ("+ / -", "request log", "make the log taller / shorter"),
            ("y / s", "exchange view", "copy it (OSC 52; inside tmux also into its buffer) / save it to a file"),
            ("y / esc / enter", "unsubscribe dialog", "confirm / cancel / cancel (Cancel has focus)"),
            *bulk_help_rows(self._keymap),  # the bulk screen's bindings, with [ui.keys] applied
            ("?", "when not typing", "Help"),
            ("tab / shift+tab", "anywhere", "move between panes"),
        ]
        return rows

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        from mobitui.core import logs

        debug_log = logs.current_path()
        self.push_screen(
            HelpScreen(
                self.key_rows(),
                [self.key_notice] if self.key_notice else [],
                debug_log=str(debug_log) if debug_log else None,
            )
        )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.runtime is None:
            return
        yield SystemCommand("Look up the number", "Check its state in the selected campaign", self.action_lookup)
        yield SystemCommand("Check in every campaign", "Where is this person subscribed?", self.action_everywhere)
        yield SystemCommand("Re-check now", "Ask for the state again", self.action_refresh)
        if not self.read_only:
            yield SystemCommand(
                "Unsubscribe the number", "After a confirmation, via the campaign's route", self.action_unsubscribe
            )
        yield SystemCommand("Bulk: paste numbers", "Check or unsubscribe many numbers at once", self.action_bulk)
        yield SystemCommand("Toggle the request log", "Show or hide the raw exchanges", self.action_toggle_log)
        yield SystemCommand("Focus the request log", "Select an exchange to see it in full", self.action_focus_log)
        yield SystemCommand("Filter campaigns", "Type to narrow the campaign list", self.action_filter)
        yield SystemCommand("Help: keys", "Every key", self.action_help)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            err = event.worker.error
            if isinstance(err, (JournalFault, CoreUnavailable)):
                self.notify(plain(str(err), 1000).plain, severity="error", markup=False, timeout=20)
                return
            self.notify(
                f"{event.worker.description or 'A task'} failed unexpectedly: {type(err).__name__}. "
                "Nothing else was affected; the journal has what was sent.",
                severity="error",
                markup=False,
                timeout=20,
            )
