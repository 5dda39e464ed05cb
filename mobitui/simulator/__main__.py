"""``python -m mobitui.simulator``: the simulator CLI without the top-level entry point."""

import sys

from mobitui.simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
