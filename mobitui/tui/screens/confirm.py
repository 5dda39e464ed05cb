"""The unsubscribe confirmation: says exactly what will happen, defaults to Cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from mobitui.core.config import Campaign, Route
from mobitui.core.results import PlannedRequest, Result
from mobitui.tui.safe import block, plain
from mobitui.tui.widgets.field import Field

AGAIN = "again"


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s ago"
    return f"{seconds // 60} min ago"


class UnsubscribeConfirm(ModalScreen[bool]):
    """Enter and Escape cancel; only `y` (or the focused confirm button) confirms.

    Shows the number's last known state, and the journal's unsubscribes of it in
    this campaign in the last minutes. When one of those may have reached the
    subscriber (accepted, in flight or of unknown outcome), or the number is
    already ``unsub``, `y` is not enough: the operator types "again" and Enter.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="confirm_cancel"),
        Binding("y", "confirm", "Yes, unsubscribe", id="confirm_yes"),
        Binding("n", "cancel", "No", show=False, id="confirm_no"),
    ]

    def __init__(
        self,
        campaign: Campaign,
        msisdn: str,
        plan: PlannedRequest,
        *,
        known: Result | None = None,
        recent: list[dict[str, Any]] | None = None,
        journal_problem: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.campaign = campaign
        self.msisdn = msisdn
        self.plan = plan
        self.known = known
        self.clock = clock
        self.journal_problem = journal_problem
        # Earlier stops that may have reached the subscriber (a failed one did not).
        self.earlier = [r for r in (recent or []) if r.get("outcome") != "failed"]
        self.needs_again = bool(self.earlier) or (known is not None and known.ok and known.state == "unsub")

    def _known_line(self) -> Text:
        t = Text()
        t.append(f"{'state':<9}", "dim")
        k = self.known
        if k is None:
            t.append("not known (no answer for this number in this campaign yet)", "yellow")
        elif not k.ok:
            t.append("not known: the last check failed", "yellow")
        else:
            t.append_text(plain(k.state or "?", 40, "bold"))
            t.append(f"  (checked {_ago(self.clock() - k.checked_at)})", "dim")
            if k.state == "unsub":
                t.append("  already unsubscribed", "bold yellow")
        return t

    def _earlier_lines(self) -> Text:
        t = Text()
        for r in self.earlier[:3]:
            try:
                from datetime import datetime

                age = self.clock() - datetime.fromisoformat(r["started_at"]).timestamp()
            except (KeyError, TypeError, ValueError):
                age = 0
            if r["outcome"] == "ok":
                said = f"A stop was accepted {_ago(age)}"
            elif r["outcome"] == "attempted":
                said = f"A stop was sent {_ago(age)}; no answer is recorded (in flight, or its outcome is unknown)"
            else:
                said = f"A stop was sent {_ago(age)}; its outcome is unknown (it may have arrived)"
            where = f"job {r['job_id']}" if r.get("job_id") is not None else "single unsubscribe"
            t.append(f"! {said}", "bold yellow")
            t.append(f"  ({r['started_at'][11:19]} UTC, {where}, {r.get('os_user')}@{r.get('host')})\n", "yellow")
        return t

    def compose(self) -> ComposeResult:
        c = self.campaign
        with Vertical(id="confirm-box"):
            yield Static(Text.assemble("Unsubscribe ", (self.msisdn, "bold"), "?"), id="confirm-title")
            facts = Text()
            for label, value in (
                ("MSISDN", self.msisdn),
                ("campaign", f"{c.name}  ({c.campaign_id})"),
                ("route", f"{c.unsubscribe_via.label} ({c.unsubscribe_via.value})"),
            ):
                facts.append(f"{label:<9}", "dim")
                facts.append(f"{value}\n", "bold")
            facts.append_text(self._known_line())
            facts.append("\n\nWhat happens: ", "bold")
            facts.append(self.plan.effect)
            yield Static(facts, id="confirm-facts")
            if self.journal_problem:
                yield Static(
                    Text.assemble(
                        ("! The journal could not be read: ", "bold yellow"), plain(self.journal_problem, 200)
                    ),
                    id="confirm-journal",
                )
            if self.needs_again:
                warning = self._earlier_lines()
                again = (
                    "Another stop asks the Subscription API again (no SMS is sent by mobitui)"
                    if c.unsubscribe_via is Route.SUBSCRIPTION_API
                    else "Another stop sends the subscriber another SMS"
                )
                warning.append(f"{again}. Type {AGAIN} and press Enter to send it anyway; Esc cancels.", "bold")
                yield Static(warning, id="confirm-warning")
                yield Field(placeholder=f"type {AGAIN}, then Enter", id="confirm-again")
            request = Text.assemble((f"{self.plan.method} ", "bold"), plain(self.plan.url, 2000))
            if self.plan.body:
                request.append("\n")
                request.append_text(block(self.plan.body, 2000))
            # Byte for byte what is sent, but for the parts the note names (the plan says why).
            note = self.plan.note
            yield Static(
                plain(f"Request to be sent ({note}):" if note else "Request to be sent:", 600, "dim"),
                id="confirm-request-note",
            )
            yield Static(request, id="confirm-request")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (Esc)", id="cancel", variant="primary")
                yield Button("Unsubscribe (y)", id="confirm", variant="error")

    def on_mount(self) -> None:
        if self.needs_again:
            self.query_one("#confirm-again", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        if self.needs_again:
            self.notify(
                f"This number may already have had a stop: type {AGAIN} and press Enter to send another.",
                severity="warning",
                markup=False,
            )
            self.query_one("#confirm-again", Input).focus()
            return
        self.dismiss(True)

    @on(Input.Submitted, "#confirm-again")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip().lower() == AGAIN:
            self.dismiss(True)
            return
        event.input.value = ""
        self.notify(f"Not sent: type {AGAIN} exactly, or Esc to cancel.", severity="warning", markup=False)
