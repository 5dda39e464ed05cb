"""Draw the README's screenshots: python tools/screenshots.py

Each scenario of tests/support/showcase.py runs against the in-process simulator
with a stopped clock and is saved as SVG in screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The scenarios are test scaffolding (tests/support), not part of the package.
sys.path.insert(0, str(ROOT / "tests"))
SIZES = [(120, 36), (80, 24)]


async def shoot(name: str, size: tuple[int, int]) -> Path:
    from support import showcase

    # A data directory of its own, as each snapshot test has: the console remembers
    # the last campaign, and one scenario's choice must not show in the next picture.
    os.environ["MOBITUI_DATA_DIR"] = tempfile.mkdtemp(prefix="mobitui-shots-")
    scenario, options = showcase.SCENARIOS[name]
    app = showcase.frozen_app(**options)  # type: ignore[arg-type]
    out = ROOT / "screenshots" / f"{name}-{size[0]}x{size[1]}.svg"
    with showcase.frozen_clock(), showcase.ended(app):
        async with app.run_test(size=size) as pilot:
            await scenario(pilot)
            app.save_screenshot(filename=out.name, path=str(out.parent))
    return out


def main() -> int:
    os.environ["TZ"] = "UTC"
    from support import showcase

    for name in showcase.SCENARIOS:
        for size in SIZES:
            print(asyncio.run(shoot(name, size)).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
