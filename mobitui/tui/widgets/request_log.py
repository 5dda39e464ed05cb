"""The request log: every exchange, newest last, bounded in memory."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from mobitui.core.calls import describe
from mobitui.core.recorder import Exchange
from mobitui.tui.safe import plain

URL_MIN = 40  # characters of URL shown at the narrowest; wider terminals show more


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
        self._last_started = 0.0  # when the newest request shown was made (epoch s)

    def on_mount(self) -> None:
        self.border_title = "Request log"
        # Fixed widths: rows arrive in bursts, and a table that re-measures its
        # columns on every burst makes the log jump sideways while one reads it.
        self.add_column("time", key="time", width=8)
        self.add_column("operation", key="operation", width=11)
        self.add_column("MSISDN", key="msisdn", width=15)
        self.add_column("HTTP", key="status", width=4)
        self.add_column("ms", key="ms", width=6)
        self.add_column("URL (redacted)", key="url", width=URL_MIN)
        self.add_column("error", key="error", width=60)
        self.set_interval(0.2, self.flush)

    def on_resize(self) -> None:
        """The URL takes the width the fixed columns leave (each column has 2 of padding)."""
        fixed = sum(c.width + 2 for key, c in self.columns.items() if key.value not in ("url", "error"))
        width = max(URL_MIN, self.scrollable_content_region.width - fixed - 2)
        column = self.columns.get(ColumnKey("url"))
        if column is not None and column.width != width:
            column.width = width
            self._require_update_dimensions = True
            self.refresh()

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
        if self.exchanges and min(ex.started for ex in batch) < self._last_started:
            # An answer that came back after a later request's (a slow lookup, a
            # job's exchanges relayed at its end): rows stay in the order requests
            # were made, so the table is rebuilt in that order.
            batch = sorted([*self.exchanges.values(), *batch], key=lambda e: (e.started, e.id))[-self.limit :]
            self.clear()
            self.exchanges.clear()
        else:
            batch.sort(key=lambda e: (e.started, e.id))
        for ex in batch:
            self.add_exchange(ex)
        self._last_started = max(e.started for e in self.exchanges.values())

    def add_exchange(self, ex: Exchange) -> None:
        key = str(ex.id)
        self.exchanges[key] = ex
        at_end = self.cursor_row >= self.row_count - 1
        status = Text(
            "-" if ex.status is None else str(ex.status), "red" if (ex.status or 0) >= 400 or ex.error else "green"
        )
        operation, msisdn = describe(ex)
        self.add_row(
            Text(datetime.fromtimestamp(ex.started).strftime("%H:%M:%S")),
            plain(operation, 11, "bold" if operation not in ("status", "?") else ""),
            plain(msisdn, 15),
            status,
            Text(f"{ex.elapsed_ms:.0f}", justify="right"),
            plain(ex.url, 400),
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
