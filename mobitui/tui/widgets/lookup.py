"""The MSISDN lookup: input, live normalisation hint, recall of recent numbers."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from mobitui.core.msisdn import Parsed, Verdict, normalise


class MsisdnInput(Input):
    """An Input that recalls recent numbers with Up and Down."""

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

    def reset_recall(self) -> None:
        self._pos = -1

    async def _on_key(self, event: events.Key) -> None:
        """Editing keys act in order with the characters typed around them.

        Textual inserts a printable key in the field at once, but runs a bound key
        (backspace, ctrl+u, delete, the arrows) only when its event has bubbled up to
        the app, after the keys queued behind it were inserted: ``12<BS>3`` typed fast
        (or sent in one burst by tmux) became ``12`` instead of ``13``, another number.
        Here the field's own bindings run as their key arrives. Textual is pinned
        exactly (8.2.8): this leans on ``_bindings`` and ``_on_key`` of its Input.
        """
        if not event.is_printable:
            bindings = self._bindings.key_to_bindings.get(event.key)
            if bindings:
                event.stop()
                event.prevent_default()
                await self.run_action(bindings[0].action)
                return
        await super()._on_key(event)


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
