"""One exchange in full: the raw request and the raw response."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from mobitui.core import paths, private
from mobitui.core.recorder import Exchange
from mobitui.core.text import inert
from mobitui.tui.safe import block

SHOWN = 64 * 1024


def pretty(body: str) -> str:
    """The body indented when it is JSON; as received otherwise (also when it is
    nested too deeply for the json module: a hostile body must not crash the view)."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return body


def as_text(ex: Exchange) -> str:
    """The exchange as plain text, for the clipboard and for files (made inert)."""
    when = datetime.fromtimestamp(ex.started, UTC).isoformat(timespec="milliseconds")
    lines = [
        f"# exchange {ex.id} at {when}, attempt {ex.attempt}, {ex.elapsed_ms:.0f} ms",
        "",
        "## request",
        f"{ex.method} {ex.url}",
    ]
    lines += [f"{k}: {v}" for k, v in ex.request_headers]
    if ex.request_body:
        lines += ["", pretty(ex.request_body)]
    lines += ["", "## response"]
    if ex.status is None:
        lines.append("(no HTTP answer)")
    else:
        lines.append(f"HTTP {ex.status}")
        lines += [f"{k}: {v}" for k, v in ex.response_headers]
        lines += ["", pretty(ex.response_body) if ex.response_body else "(empty body)"]
        if ex.response_truncated:
            lines.append(f"[body cut at {ex.response_bytes} bytes by network.max_body_bytes]")
    if ex.error:
        lines += ["", "## error", ex.error]
    return inert("\n".join(lines), None, keep_newlines=True)


class ExchangeDetail(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss_screen", "Close", id="detail_close"),
        Binding("y", "copy", "Copy", id="detail_copy"),
        Binding("s", "save", "Save to file", id="detail_save"),
    ]

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self.exchange = exchange

    def compose(self) -> ComposeResult:
        text = as_text(self.exchange)
        shown = block(text, SHOWN)
        if len(text) > SHOWN:
            shown.append(f"\n\n[{len(text) - SHOWN} more characters: press s to save all of it]", "bold yellow")
        with VerticalScroll(id="detail-body"):
            yield Static(shown, id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        body = self.query_one("#detail-body")
        ex = self.exchange
        body.border_title = Text(f"{ex.method} exchange #{ex.id}  HTTP {ex.status or '-'}")
        body.focus()

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_out(as_text(self.exchange), f"Exchange #{self.exchange.id}")  # type: ignore[attr-defined]

    def action_save(self) -> None:
        self.save_to_file()

    @work(thread=True, exit_on_error=False, group="exchange-save", description="saving the exchange")
    def save_to_file(self) -> None:
        """Disk work off the event loop (a home on NFS can stall for seconds)."""
        folder = paths.data_dir() / "exchanges"
        stamp = datetime.fromtimestamp(self.exchange.started).strftime("%Y%m%d-%H%M%S")
        path = folder / f"exchange-{stamp}-{self.exchange.id}.txt"
        try:
            private.make_dir(folder)  # an exchange holds an MSISDN: 0700/0600, whatever the umask
            private.write_text(path, as_text(self.exchange))
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Could not save: {exc.strerror}", severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"Saved to {path}", markup=False)
