"""The unsubscribe confirmation: says exactly what will happen, defaults to Cancel."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from mobitui.core.results import PlannedRequest
from mobitui.core.config import Campaign
from mobitui.tui.safe import block, plain


class UnsubscribeConfirm(ModalScreen[bool]):
    """Enter and Escape cancel; only `y` (or the focused confirm button) confirms."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="confirm_cancel"),
        Binding("y", "confirm", "Yes, unsubscribe", id="confirm_yes"),
        Binding("n", "cancel", "No", show=False, id="confirm_no"),
    ]

    def __init__(self, campaign: Campaign, msisdn: str, plan: PlannedRequest) -> None:
        super().__init__()
        self.campaign = campaign
        self.msisdn = msisdn
        self.plan = plan

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
            facts.append("\nWhat happens: ", "bold")
            facts.append(self.plan.effect)
            yield Static(facts, id="confirm-facts")
            request = Text.assemble((f"{self.plan.method} ", "bold"), plain(self.plan.url, 2000))
            if self.plan.body:
                request.append("\n")
                request.append_text(block(self.plan.body, 2000))
            yield Static(Text("Request to be sent (key redacted):", "dim"))
            yield Static(request, id="confirm-request")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (Esc)", id="cancel", variant="primary")
                yield Button("Unsubscribe (y)", id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)
