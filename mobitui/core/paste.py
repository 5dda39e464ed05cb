"""Parsing pasted numbers: one per line, or separated by , ; or tabs.

Each entry gets a verdict: ok, warning, invalid (with the reason) or a
duplicate of an earlier line. Pure and fast: 100,000 lines parse in a couple
of seconds, and the console runs it in a worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from mobitui.core.msisdn import Parsed, Verdict, normalise

SEPARATORS = re.compile(r"[,;\t]")


@dataclass(frozen=True, slots=True)
class Entry:
    line: int  # 1-based line of the paste
    raw: str
    parsed: Parsed
    duplicate_of: int | None = None  # line of the first occurrence

    @property
    def msisdn(self) -> str | None:
        return self.parsed.msisdn

    @property
    def usable(self) -> bool:
        return self.parsed.usable and self.duplicate_of is None

    @property
    def verdict(self) -> str:
        if self.duplicate_of is not None:
            return "duplicate"
        return self.parsed.verdict.value

    @property
    def reason(self) -> str:
        if self.duplicate_of is not None:
            return f"duplicate of line {self.duplicate_of}"
        return self.parsed.reason


def split_fields(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, field) for every non-blank field."""
    for no, line in enumerate(lines, start=1):
        for field in SEPARATORS.split(line):
            if field.strip():
                yield no, field


def parse(lines: Iterable[str], country: str | None = None) -> list[Entry]:
    seen: dict[str, int] = {}
    out: list[Entry] = []
    for no, field in split_fields(lines):
        parsed = normalise(field, country)
        dup = None
        if parsed.msisdn is not None:
            if parsed.msisdn in seen:
                dup = seen[parsed.msisdn]
            else:
                seen[parsed.msisdn] = no
        out.append(Entry(no, field.strip(), parsed, dup))
    return out


def counts(entries: Iterable[Entry]) -> dict[str, int]:
    c = {v.value: 0 for v in Verdict} | {"duplicate": 0}
    for e in entries:
        c[e.verdict] += 1
    return c
