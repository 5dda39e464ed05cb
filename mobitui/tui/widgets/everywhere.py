"""One number in every configured campaign: where is this person subscribed?"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from mobitui.core import states
from mobitui.core.config import Campaign
from mobitui.core.results import Result
from mobitui.tui.safe import plain

STYLE = {
    states.Meaning.BILLING: "bold green",
    states.Meaning.PAUSED: "bold yellow",
    states.Meaning.BLOCKED: "bold red",
    states.Meaning.GONE: "dim",
    states.Meaning.PENDING: "bold cyan",
    states.Meaning.UNKNOWN: "bold magenta",
}


class EverywhereTable(DataTable[Text]):
    def __init__(self, **kw: object) -> None:
        super().__init__(cursor_type="row", **kw)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.border_title = "Every campaign"
        # What matters first (state, then why there is none) comes first: at 80
        # columns the pane shows about 55 characters. The route goes under the
        # campaign's name, as in the campaign list: a column of its own was cut there.
        for label, key in (
            ("campaign · route", "campaign"),
            ("state", "state"),
            ("error", "error"),
            ("meaning", "meaning"),
        ):
            self.add_column(label, key=key)

    def start(self, msisdn: str, campaigns: list[Campaign]) -> None:
        self.clear()
        self.border_title = f"{msisdn} in every campaign"
        for c in campaigns:
            name = Text.assemble(plain(c.name, 60, "bold"), "\n", (c.unsubscribe_via.value, "dim"))
            self.add_row(name, Text("checking…", "dim italic"), Text(""), Text(""), key=c.campaign_id, height=2)

    def put(self, result: Result) -> None:
        m = states.meaning(result.state) if result.ok else None
        key = result.campaign_id
        # The columns were sized for "checking…" and empty cells: widen them to what
        # arrived, or an error shows as its first five characters.
        self.update_cell(
            key,
            "state",
            plain(result.state if result.ok else "no state", 30, STYLE[m] if m else "bold red"),
            update_width=True,
        )
        self.update_cell(key, "meaning", Text(m.value if m else ""), update_width=True)
        self.update_cell(key, "error", plain(summary(result.error), SUMMARY, "red"), update_width=True)


SUMMARY = 40  # characters of an error in the table; the status panel and the log have all of it


def summary(error: str | None) -> str:
    """A readable summary of an error message for one table cell.

    Our messages lead with what happened, then a colon and the detail ("Read
    timeout: the request was sent to …", "HTTP 500: the server failed …"): the
    part before the colon, or else the first sentence, at most SUMMARY characters.
    """
    if not error:
        return ""
    head = error.split(": ", 1)[0] if ": " in error else error.split(". ", 1)[0]
    head = head.rstrip(".")
    return head if len(head) <= SUMMARY else head[: SUMMARY - 1] + "…"
