"""The MSISDN lookup: input, live normalisation hint, recall of recent numbers."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from mobitui.core.msisdn import Parsed, Verdict, normalise
from mobitui.tui.widgets.field import Field


class MsisdnInput(Field):
    """The MSISDN field: recalls recent numbers with Up and Down; editing keys act in order
    (:class:`~mobitui.tui.widgets.field.Field`)."""

    BINDINGS = [
        Binding("up", "recall(1)", "Older", show=False, id="recall_older"),
        Binding("down", "recall(-1)", "Newer", show=False, id="recall_newer"),
    ]

    def __init__(self, recent: list[str], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.recent = recent
        self._pos = -1

    def action_recall(self, step: int) -> None:
        if not self.recent:
            return
        self._pos = max(-1, min(len(self.recent) - 1, self._pos + step))
        self.value = "" if self._pos < 0 else self.recent[self._pos]
        self.cursor_position = len(self.value)

    def _on_paste(self, event: events.Paste) -> None:
        """A list pasted here (more than one line with something on it) opens the bulk
        screen with it, where every line is read and nothing is sent until asked; the
        field keeps what it had (Textual would keep only the first line, silently)."""
        lines = [line for line in event.text.splitlines() if line.strip()]
        if len(lines) > 1 and self.app.check_action("bulk", ()) is not False:
            event.stop()
            event.prevent_default()
            self.app.notify(
                f"{len(lines)} lines pasted: opened in the bulk screen (nothing is sent until asked).", markup=False
            )
            self.app.action_bulk(event.text)  # type: ignore[attr-defined]
        # Otherwise Input's own handler runs next (Textual calls each class's, in MRO order).

    def reset_recall(self) -> None:
        self._pos = -1


class LookupBar(Vertical):
    def __init__(self, recent: list[str], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.recent = recent
        self.country: str | None = None

    def compose(self) -> ComposeResult:
        yield MsisdnInput(self.recent, placeholder="MSISDN, e.g. +254 700 000 101 or 0700-000-101", id="msisdn")
        yield Static(Text("Enter looks the number up in the selected campaign.", style="dim"), id="msisdn-hint")

    def on_mount(self) -> None:
        self.border_title = "MSISDN"

    @property
    def input(self) -> MsisdnInput:
        return self.query_one(MsisdnInput)

    def parsed(self) -> Parsed:
        return normalise(self.input.value, self.country)

    def set_country(self, country: str | None) -> None:
        self.country = country
        self._hint(self.input.value)

    @on(Input.Changed, "#msisdn")
    def _changed(self, event: Input.Changed) -> None:
        self._hint(event.value)

    def _hint(self, value: str) -> None:
        hint = self.query_one("#msisdn-hint", Static)
        if not value.strip():
            hint.update(Text("Enter looks the number up in the selected campaign.", style="dim"))
            return
        p = normalise(value, self.country)
        t = Text()
        if p.verdict is Verdict.INVALID:
            t.append("✗ rejected: ", "bold red")
            t.append(p.reason)
        else:
            t.append("→ ", "bold")
            t.append(p.msisdn or "", "bold green" if p.verdict is Verdict.OK else "bold yellow")
            if p.reason:
                t.append(f"  ({p.reason})", "yellow" if p.verdict is Verdict.WARNING else "dim")
        hint.update(t)
