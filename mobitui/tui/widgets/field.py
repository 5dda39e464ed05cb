"""A text field whose editing keys act in the order they were typed."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input


class Field(Input):
    """An :class:`~textual.widgets.Input` that runs its own bound keys as they arrive.

    Textual inserts a printable key in the field at once, but runs a bound key
    (backspace, ctrl+u, ctrl+k, delete, the arrows) only when its event has bubbled
    up to the app, after the keys queued behind it were inserted: ``12<BS>3`` typed
    fast (or sent in one burst by tmux, or pasted by a terminal macro) became ``12``
    instead of ``13``, and ``ctrl+u`` then a path cleared the path just typed. Every
    field of the console is a ``Field``. Textual is pinned exactly (8.2.8): this
    leans on ``_bindings`` and ``_on_key`` of its Input.
    """

    BINDINGS = [
        # Keys typed before the console has put the terminal in raw mode are read
        # through the tty's line discipline, which turns Enter (CR) into LF: that
        # arrives as ctrl+j, and a number typed with Enter while the console started
        # was left unsubmitted.
        Binding("ctrl+j", "submit", "Submit", show=False),
    ]

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            bindings = self._bindings.key_to_bindings.get(event.key)
            if bindings:
                event.stop()
                event.prevent_default()
                await self.run_action(bindings[0].action)
                return
        await super()._on_key(event)
