"""Confirming a bulk unsubscribe: type the count to go ahead."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from mobitui.core.config import Campaign
from mobitui.core.routes.plan import unknown_outcome_rule
from mobitui.tui.widgets.field import Field


class BulkUnsubscribeConfirm(ModalScreen[bool]):
    """Only typing the exact count and Enter confirms; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="bulk_confirm_cancel")]

    def __init__(self, campaign: Campaign, count: int, effect: str, which: str, caution: str | None = None) -> None:
        """``caution``: what the operator must know of the chosen numbers beyond their
        count (some not active, some never checked), shown in bold before the count."""
        super().__init__()
        self.caution = caution
        self.campaign = campaign
        self.count = count
        self.effect = effect
        self.which = which

    def compose(self) -> ComposeResult:
        c = self.campaign
        with Vertical(id="confirm-box"):
            yield Static(
                Text(f"Unsubscribe {self.count} number{'' if self.count == 1 else 's'}?", "bold"), id="confirm-title"
            )
            facts = Text()
            for label, value in (
                ("numbers", f"{self.count} ({self.which})"),
                ("campaign", f"{c.name}  ({c.campaign_id})"),
                ("route", f"{c.unsubscribe_via.label} ({c.unsubscribe_via.value})"),
            ):
                facts.append(f"{label:<9}", "dim")
                facts.append(f"{value}\n", "bold")
            facts.append("\nEach subscriber: ", "bold")
            facts.append(self.effect)
            facts.append("\n\n" + unknown_outcome_rule(c.unsubscribe_via), "dim")
            yield Static(facts, id="confirm-facts")
            if self.caution:
                yield Static(Text("! " + self.caution, "bold yellow"), id="confirm-caution")
            yield Static(Text(f"Type {self.count} and press Enter to confirm, Esc to cancel:"))
            yield Field(placeholder=f"type {self.count}, then Enter", id="confirm-count")
            yield Static(id="confirm-refused")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip() == str(self.count):
            self.dismiss(True)
            return
        self.query_one("#confirm-refused", Static).update(
            Text(f"That is not {self.count}: nothing will be sent until it is.", "bold red")
        )
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss(False)
