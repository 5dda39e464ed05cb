"""A problem that stops the console from working, with the way out."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from mobitui.tui.safe import block


class ProblemScreen(Screen[str]):
    """Shown instead of the console when there is no usable config."""

    BINDINGS = [
        Binding("d", "choose('demo')", "Start the demo", id="problem_demo"),
        Binding("q,escape", "choose('quit')", "Quit", id="problem_quit"),
    ]

    def __init__(self, title: str, detail: str, way_out: str) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.way_out = way_out

    def compose(self) -> ComposeResult:
        with Vertical(id="problem-box"):
            yield Static(Text(self.title_text, "bold red"), id="problem-title")
            yield Static(block(self.detail, 4000), id="problem-detail")
            yield Static(Text(self.way_out), id="problem-way-out")
        yield Footer()

    def action_choose(self, what: str) -> None:
        self.dismiss(what)
