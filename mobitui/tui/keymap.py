"""Remapped keys (``[ui.keys]``) checked against the other keys active beside them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from textual.binding import Binding, BindingType


def _keys(binding: Binding, keymap: Mapping[str, str]) -> set[str]:
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    return {k.strip() for k in keys.split(",") if k.strip()}


def clashes(keymap: Mapping[str, str], contexts: Mapping[str, Sequence[Iterable[BindingType]]]) -> list[str]:
    """Keys that ``keymap`` gives to two bindings active at the same time.

    ``contexts``: for each place of the console (named for the message), the
    binding lists active together there (the app's, the screen's, the focused
    widget's). Only clashes that a remapped id takes part in are reported: the
    console's own defaults share keys on purpose (Esc closes every dialog).
    Returns one sentence per clash, e.g. ``ctrl+o is both 'everywhere' and
    'unsubscribe' (main screen)``; empty when none.
    """
    found: list[str] = []
    for place, lists in contexts.items():
        bindings = [b for group in lists for b in group if isinstance(b, Binding) and b.id]
        for i, a in enumerate(bindings):
            for b in bindings[i + 1 :]:
                if a.id == b.id or (a.id not in keymap and b.id not in keymap):
                    continue
                for key in sorted(_keys(a, keymap) & _keys(b, keymap)):
                    sentence = f"{key} is both {a.id!r} and {b.id!r} ({place})"
                    if sentence not in found:
                        found.append(sentence)
    return found
