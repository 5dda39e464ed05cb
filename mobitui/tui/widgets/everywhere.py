"""One number in every configured campaign: where is this person subscribed?"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from mobitui.core import states
from mobitui.core.results import Result
from mobitui.core.config import Campaign
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
        for label, key in (("campaign", "campaign"), ("route", "route"), ("state", "state"),
                           ("meaning", "meaning"), ("error", "error")):
            self.add_column(label, key=key)

    def start(self, msisdn: str, campaigns: list[Campaign]) -> None:
        self.clear()
        self.border_title = f"{msisdn} in every campaign"
        for c in campaigns:
            self.add_row(Text(c.name, "bold"), Text(c.unsubscribe_via.value, "dim"),
                         Text("checking…", "dim italic"), Text(""), Text(""), key=c.campaign_id)

    def put(self, result: Result) -> None:
        m = states.meaning(result.state) if result.ok else None
        key = result.campaign_id
        self.update_cell(key, "state", plain(result.state if result.ok else "no state", 30,
                                               STYLE[m] if m else "bold red"))
        self.update_cell(key, "meaning", Text(m.value if m else ""))
        self.update_cell(key, "error", plain(result.error or "", 200, "red"))
