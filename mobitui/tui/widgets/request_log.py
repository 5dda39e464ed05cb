"""The request log: every exchange, newest last, bounded in memory."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from mobitui.core.recorder import Exchange
from mobitui.tui.safe import plain


class RequestLog(DataTable[Text]):
    BINDINGS = [
        Binding("plus,equals_sign", "resize(2)", "Log taller", id="log_taller"),
        Binding("minus", "resize(-2)", "Log shorter", id="log_shorter"),
    ]

    class Open(Message):
        def __init__(self, exchange: Exchange) -> None:
            self.exchange = exchange
            super().__init__()

    class Resize(Message):
        def __init__(self, step: int) -> None:
            self.step = step
            super().__init__()

    def __init__(self, limit: int = 500, **kw: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)  # type: ignore[arg-type]
        self.limit = limit
        self.exchanges: dict[str, Exchange] = {}
        self._pending: deque[Exchange] = deque(maxlen=limit)

    def on_mount(self) -> None:
        self.border_title = "Request log"
        # Fixed widths: rows arrive in bursts, and a table that re-measures its
        # columns on every burst makes the log jump sideways while one reads it.
        self.add_column("time", key="time", width=8)
        self.add_column("method", key="method", width=6)
        self.add_column("HTTP", key="status", width=4)
        self.add_column("ms", key="ms", width=6)
        self.add_column("URL (redacted)", key="url", width=72)
        self.add_column("error", key="error", width=60)
        self.set_interval(0.2, self.flush)

    def queue(self, ex: Exchange) -> None:
        """Called for every exchange; rows are added in batches by :meth:`flush`,
        so a bulk run of thousands of requests costs the UI one update per tick."""
        self._pending.append(ex)

    def flush(self) -> None:
        # Only while its screen is shown: behind the bulk screen the bounded
        # queue simply keeps the newest exchanges, at no cost to the run.
        if not self._pending or self.app.screen is not self.screen:
            return
        pending, batch = self._pending, []
        while pending:  # popleft: a bulk job's thread may append meanwhile
            batch.append(pending.popleft())
        if len(batch) >= self.limit:
            self.clear()
            self.exchanges.clear()
            batch = batch[-self.limit :]
        for ex in batch:
            self.add_exchange(ex)

    def add_exchange(self, ex: Exchange) -> None:
        key = str(ex.id)
        self.exchanges[key] = ex
        at_end = self.cursor_row >= self.row_count - 1
        status = Text("-" if ex.status is None else str(ex.status), "red" if (ex.status or 0) >= 400 or ex.error else "green")
        self.add_row(
            Text(datetime.fromtimestamp(ex.started).strftime("%H:%M:%S")),
            Text(ex.method),
            status,
            Text(f"{ex.elapsed_ms:.0f}", justify="right"),
            plain(ex.url, 120),
            plain(ex.error or "", 120, "red"),
            key=key,
        )
        while self.row_count > self.limit:
            oldest = next(iter(self.exchanges))
            self.exchanges.pop(oldest)
            self.remove_row(oldest)
        if at_end or not self.has_focus:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        ex = self.exchanges.get(str(event.row_key.value))
        if ex is not None:
            self.post_message(self.Open(ex))

    def action_resize(self, step: int) -> None:
        self.post_message(self.Resize(step))
