"""F1 / ?: every key, from the live bindings (so remapped keys show as remapped)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "Close", id="help_close")]

    def __init__(
        self, rows: list[tuple[str, str, str]], notices: list[str] | None = None, debug_log: str | None = None
    ) -> None:
        super().__init__()
        self.rows = rows
        self.notices = notices or []  # standing problems (no API key), kept reachable here
        self.debug_log = debug_log  # the debug log's path, when it is being written

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("does")
        for key, where, does in self.rows:
            table.add_row(Text(key), Text(where), Text(does))
        with VerticalScroll(id="help-box"):
            for notice in self.notices:
                yield Static(Text(notice, "bold yellow"), classes="help-notice")
            yield Static(Text("mobitui keys  (Esc closes)", "bold"))
            yield Static(table)
            if self.debug_log:
                yield Static(Text(f"Debug log (redacted): {self.debug_log}", "dim"), id="help-debug-log")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)
