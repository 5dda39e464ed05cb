"""Read-only mode: one rule and one message for every front end.

Read-only (``--read-only`` or ``ui.read_only = true``) is for shadowing and
training: status checks, history and exports work; nothing that changes a
subscription is sent, from the console or the CLI, single or bulk, new or resumed.
"""

from __future__ import annotations

REFUSAL = (
    "read-only mode (--read-only or ui.read_only = true): {what} refused; nothing was sent. "
    "Run without --read-only, and with ui.read_only = false in the config, to unsubscribe."
)


def refusal(what: str) -> str:
    """The one message shown when read-only mode refuses a mutating action.

    ``what`` names the refused action in a few words ("unsubscribe", "resuming
    unsubscribe job 4"); the result is one sentence naming both switches and the
    way out. Raises nothing.
    """
    return REFUSAL.format(what=what)
