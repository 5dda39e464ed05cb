"""The live status panel: the state, large and coloured by meaning."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mobitui.core import states
from mobitui.core.config import Campaign, Network
from mobitui.core.results import Outcome, Result
from mobitui.tui.safe import plain

MEANING_CLASSES = [f"-{m.value}" for m in states.Meaning] + ["-error", "-waiting"]


def _flag(value: object) -> Text:
    if value is True:
        return Text("yes", "green")
    if value is False:
        return Text("NO", "bold red")
    if value is None:
        return Text("-", "dim")
    return plain(value, 20)


Target = tuple[str, str]  # (campaign_id, msisdn)


class StatusPanel(VerticalScroll):
    """Shows one answer; the app decides when to ask again.

    An unsubscribe's line names its own MSISDN and campaign and is drawn only
    while the panel shows that number in that campaign: an answer that comes
    back after the operator looked up another number is never drawn under it.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        overrides: dict[str, str] | None = None,
        demo: bool = False,
        **kw: object,
    ) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.clock = clock
        self.demo = demo
        self.overrides = overrides or {}
        self.result: Result | None = None
        self.change: tuple[str | None, str | None, float] | None = None
        self.busy = False
        self.shown: Target | None = None  # the number and campaign on screen now
        # Unsubscribes of this session by target: campaign, started (clock), result (None: in flight)
        self.actions: dict[Target, tuple[Campaign, float, Result | None]] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="status-title")
        yield Static(id="state-big")
        yield Static(id="status-error")  # first below the state: it matters most when shown
        yield Static(id="status-action")
        yield Static(id="state-desc")
        yield Static(id="status-fields")
        yield Static(id="status-age")

    def on_mount(self) -> None:
        self.border_title = "Status"
        self._big("no lookup yet", "-waiting")
        hint = "Type a number and press Enter."
        if self.demo:
            hint += " Samples in the demo: 254700000101 … 254700000113."
        self.query_one("#state-desc", Static).update(Text(hint, "dim"))

    def _big(self, text: str, cls: str) -> None:
        big = self.query_one("#state-big", Static)
        big.remove_class(*MEANING_CLASSES)
        big.add_class(cls)
        big.update(plain(text.upper(), 40))

    def show_loading(self, campaign: Campaign, msisdn: str, refresh: bool, network: Network | None = None) -> None:
        self.busy = True
        self.shown = (campaign.campaign_id, msisdn)
        if not refresh or self.result is None:
            self.query_one("#status-title", Static).update(self._title(campaign, msisdn))
            self._big("checking…", "-waiting")
            for sid in ("#state-desc", "#status-fields", "#status-error", "#status-action"):
                self.query_one(sid, Static).update("")
            self.query_one("#status-error").display = False
            self.change = None
            self._draw_action()
        waiting = "checking now…"
        if network is not None:  # a server that never answers must not look like a slow one
            until = time.strftime("%H:%M:%S", time.localtime(self.clock() + network.status_bound_seconds))
            waiting += (
                f" up to {network.status_attempts} attempt(s); gives up by {until}"
                if network.status_attempts > 1
                else f" gives up by {until}"
            )
        self.query_one("#status-age", Static).update(Text(waiting, "dim italic"))

    def _title(self, campaign: Campaign, msisdn: str) -> Text:
        return Text.assemble(
            (msisdn, "bold"), " in ", (campaign.name, "bold"), (f"  ({campaign.unsubscribe_via.label})", "dim")
        )

    def show(self, campaign: Campaign, result: Result) -> None:
        self.busy = False
        last = self.result
        same_target = last is not None and last.msisdn == result.msisdn and last.campaign_id == result.campaign_id
        previous = self.result.state if (self.result is not None and same_target and self.result.ok) else None
        if same_target and result.ok and previous is not None and previous != result.state:
            self.change = (previous, result.state, self.clock())
        elif not same_target:
            self.change = None
        self.result = result
        self.shown = (campaign.campaign_id, result.msisdn)
        self._draw_action()
        self.query_one("#status-title", Static).update(self._title(campaign, result.msisdn))
        if result.ok:
            meaning = states.meaning(result.state)
            self._big(result.state or "?", f"-{meaning.value}")
            desc = Text.assemble(
                ("state code ", "dim"),
                plain(result.state, 40, "bold"),
                "  ",
                plain(states.describe(result.state, self.overrides), 200),
                (f"  ({meaning.value}; {states.INTERPRETATION})", "dim italic"),
            )
        else:
            self._big("unknown outcome" if result.outcome is Outcome.UNKNOWN else "no state", "-error")
            desc = Text("")
        self.query_one("#state-desc", Static).update(desc)
        a = result.answer
        fields = Text()
        fields.append("authenticated ", "dim")
        fields.append_text(_flag(a.get("authenticated")))
        fields.append(" · valid_msisdn ", "dim")
        fields.append_text(_flag(a.get("valid_msisdn")))
        fields.append(" · valid_campaign ", "dim")
        fields.append_text(_flag(a.get("valid_campaign")))
        fields.append("\ncampaign status ", "dim")
        fields.append_text(plain(a.get("campaign_status") or "-", 40))
        fields.append(" · HTTP ", "dim")
        fields.append("-" if result.http_status is None else str(result.http_status))
        fields.append("\nreference ", "dim")
        fields.append_text(plain(result.reference or "-", 80))
        self.query_one("#status-fields", Static).update(fields)
        err = self.query_one("#status-error", Static)
        err.update(Text.assemble(("error: ", "bold red"), plain(result.error, 600)) if result.error else "")
        err.display = bool(result.error)
        self.tick()

    def unsubscribe_started(self, campaign: Campaign, msisdn: str) -> None:
        self.actions[(campaign.campaign_id, msisdn)] = (campaign, self.clock(), None)
        self._draw_action()

    def unsubscribe_finished(self, campaign: Campaign, result: Result) -> None:
        key = (campaign.campaign_id, result.msisdn)
        started = self.actions.get(key, (campaign, self.clock(), None))[1]
        self.actions[key] = (campaign, started, result)
        self._draw_action()

    def in_flight(self, campaign_id: str, msisdn: str) -> float | None:
        """When this number's unsubscribe in this campaign was sent, while it is in flight."""
        entry = self.actions.get((campaign_id, msisdn))
        return entry[1] if entry is not None and entry[2] is None else None

    def _draw_action(self) -> None:
        action = self.query_one("#status-action", Static)
        entry = self.actions.get(self.shown) if self.shown is not None else None
        if entry is None:
            action.update("")
            action.display = False
            return
        campaign, started, result = entry
        msisdn = self.shown[1] if self.shown else ""
        what = Text.assemble("unsubscribe of ", (msisdn, "bold"), " in ", (campaign.name, "bold"))
        t = Text()
        if result is None:
            since = time.strftime("%H:%M:%S", time.localtime(started))
            t.append("⧗ ", "bold yellow")
            t.append_text(what)
            t.append(
                f": in flight since {since} ({max(0, int(self.clock() - started))} s), "
                "waiting for the answer; not sent again meanwhile",
                "yellow",
            )
        else:
            when = time.strftime("%H:%M:%S", time.localtime(result.checked_at))
            if result.ok:
                t.append("✓ ", "bold green")
                t.append_text(what)
                t.append(f" accepted at {when}", "bold green")
                if result.reference:
                    t.append(", reference ")
                    t.append_text(plain(result.reference, 80))
                if result.journal_error:
                    t.append("; could not be journalled: ", "bold yellow")
                    t.append_text(plain(result.journal_error, 200))
                    t.append(" (the journal's row says 'attempted')", "yellow")
                else:
                    t.append("; the state above is checked again after it", "dim")
            elif result.outcome is Outcome.UNKNOWN:
                t.append("? ", "bold yellow")
                t.append_text(what)
                t.append(f" at {when}, outcome unknown: ", "bold yellow")
                t.append_text(plain(result.error, 400))
            else:
                t.append("✗ ", "bold red")
                t.append_text(what)
                t.append(f" at {when} failed: ", "bold red")
                t.append_text(plain(result.error, 400))
        action.update(t)
        action.display = True

    def show_failure(self, why: str) -> None:
        """A check that ended without an answer: never left on "checking" for good."""
        self.busy = False
        if self.result is None:
            self._big("check failed", "-error")
        err = self.query_one("#status-error", Static)
        err.update(Text.assemble(("check failed: ", "bold red"), plain(why, 600)))
        err.display = True
        age = (
            ""
            if self.result is None
            else f"; the state above was checked {max(0, int(self.clock() - self.result.checked_at))} s ago"
        )
        self.query_one("#status-age", Static).update(Text(f"the last check failed{age}", "dim italic"))

    def tick(self) -> None:
        """Refresh the "checked N s ago" line, the change marker and an in-flight unsubscribe's age."""
        if self.shown is not None and self.shown in self.actions and self.actions[self.shown][2] is None:
            self._draw_action()
        if self.result is None or self.busy:
            return
        age = max(0, int(self.clock() - self.result.checked_at))
        t = Text(f"checked {age} s ago", "dim")
        if self.change is not None:
            old, new, when = self.change
            t.append("   ")
            t.append(f" CHANGED {old} → {new} ", "bold reverse yellow")
            t.append(f" {int(self.clock() - when)} s ago", "yellow")
        age_line = next(self.query("#status-age").results(Static), None)
        if age_line is None:  # shutting down: the panel's children are already gone
            return
        age_line.update(t)
        self.set_class(self.change is not None, "-changed")
