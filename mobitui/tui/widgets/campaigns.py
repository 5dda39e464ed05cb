"""The campaign pane: configured campaigns, type-to-filter, details."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mobitui.core.config import Campaign
from mobitui.tui.safe import plain
from mobitui.tui.widgets.field import Field


class CampaignPane(Vertical):
    """Pick the campaign that every lookup and action applies to."""

    class Selected(Message):
        """The campaign changed; ``chosen``: by Enter (not by moving the highlight)."""

        def __init__(self, campaign: Campaign, chosen: bool = False) -> None:
            self.campaign = campaign
            self.chosen = chosen
            super().__init__()

    def __init__(self, campaigns: list[Campaign], selected: Campaign, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.campaigns = campaigns
        self.selected = selected
        self.server_info: dict[str, dict[str, object]] = {}

    def compose(self) -> ComposeResult:
        yield Field(placeholder="filter campaigns", id="campaign-filter")
        yield OptionList(id="campaign-list")
        yield Static(id="campaign-info")

    def on_mount(self) -> None:
        self.border_title = "Campaign"
        self._fill("")
        self._show_info()

    def _fill(self, text: str) -> None:
        needle = text.strip().casefold()
        ol = self.query_one(OptionList)
        ol.clear_options()
        shown = [
            c
            for c in self.campaigns
            if not needle
            or needle in c.name.casefold()
            or needle in c.campaign_id
            or needle in (c.keyword or "").casefold()
            or needle in (c.shortcode or "")
        ]
        for c in shown:
            prompt = Text.assemble((c.name, "bold"), "\n", (c.unsubscribe_via.value, "dim"))
            ol.add_option(Option(prompt, id=c.campaign_id))
        for i, c in enumerate(shown):
            if c.campaign_id == self.selected.campaign_id:
                ol.highlighted = i
                break
        else:
            if shown:
                ol.highlighted = 0

    @on(Input.Changed, "#campaign-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#campaign-filter")
    def _take_first(self, event: Input.Submitted) -> None:
        ol = self.query_one(OptionList)
        if ol.option_count:
            ol.action_select()

    def choose_highlighted(self) -> Campaign | None:
        """Take the highlighted match now (Enter in the filter), without the messages
        that would change the campaign only after keys already typed were handled.
        Returns the campaign, or None when the filter matches none."""
        ol = self.query_one(OptionList)
        if not ol.option_count or ol.highlighted is None:
            return None
        option = ol.get_option_at_index(ol.highlighted)
        c = next((c for c in self.campaigns if c.campaign_id == option.id), None)
        if c is not None:
            self.selected = c
            self._show_info()
        return c

    @on(OptionList.OptionSelected)
    @on(OptionList.OptionHighlighted)
    def _picked(self, event: OptionList.OptionSelected | OptionList.OptionHighlighted) -> None:
        event.stop()
        c = next((c for c in self.campaigns if c.campaign_id == event.option.id), None)
        if c is None:
            return
        changed = c.campaign_id != self.selected.campaign_id
        self.selected = c
        self._show_info()
        if changed or isinstance(event, OptionList.OptionSelected):
            self.post_message(self.Selected(c, chosen=isinstance(event, OptionList.OptionSelected)))

    def set_server_info(self, campaign_id: str, answer: dict[str, object]) -> None:
        info: dict[str, object] = {
            k: answer.get(k) for k in ("campaign_name", "campaign_status", "campaign_service") if k in answer
        }
        if info:
            self.server_info[campaign_id] = info
            if campaign_id == self.selected.campaign_id:
                self._show_info()

    def _show_info(self) -> None:
        c = self.selected
        t = Text()
        t.append("campaign_id\n", "dim")
        t.append(f"{c.campaign_id}\n")
        rows = [
            ("route", c.unsubscribe_via.label),
            ("shortcode", c.shortcode or "-"),
            ("keyword", c.keyword or "-"),
            ("provider", c.provider or "-"),
            ("country", c.country or "-"),
        ]
        for label, value in rows:
            t.append(f"{label:<10}", "dim")
            t.append(f"{value}\n")
        server = self.server_info.get(c.campaign_id)
        if server:
            t.append("server says\n", "bold")
            for label, key in (
                ("name", "campaign_name"),
                ("status", "campaign_status"),
                ("service", "campaign_service"),
            ):
                t.append(f"{label:<10}", "dim")
                t.append_text(plain(server.get(key), 60))
                t.append("\n")
        self.query_one("#campaign-info", Static).update(t)
