"""What the console remembers between runs: last campaign, recent numbers."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from mobitui.core import paths, private

RECENT = 30
logger = logging.getLogger(__name__)


@dataclass
class Memory:
    path: Path
    last_campaign: str | None = None
    recent: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, demo: bool) -> Memory:
        path = paths.state_dir() / ("demo-console.json" if demo else "console.json")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            recent = [str(n) for n in data.get("recent", []) if str(n).isdigit()][:RECENT]
            last = data.get("last_campaign")
            return cls(path, last if isinstance(last, str) else None, recent)
        except FileNotFoundError:  # the first run
            return cls(path)
        except (OSError, ValueError, AttributeError):
            logger.debug("the recall list %s could not be read; starting without it", path, exc_info=True)
            return cls(path)

    def remember_number(self, msisdn: str) -> None:
        if msisdn in self.recent:
            self.recent.remove(msisdn)
        self.recent.insert(0, msisdn)
        del self.recent[RECENT:]
        self.save()

    def remember_campaign(self, campaign_id: str) -> None:
        if campaign_id != self.last_campaign:
            self.last_campaign = campaign_id
            self.save()

    def save(self) -> None:
        try:
            private.make_dir(self.path.parent)  # recent MSISDNs: personal data, 0700/0600
            private.write_text(self.path, json.dumps({"last_campaign": self.last_campaign, "recent": self.recent}))
        except OSError:  # losing the recall list is not worth interrupting an operator
            logger.debug("the recall list could not be saved to %s", self.path, exc_info=True)
