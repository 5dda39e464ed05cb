"""The Textual console: a thin layer over :mod:`mobitui.core`."""

from __future__ import annotations

import argparse
import sys


def launch(args: argparse.Namespace) -> int:
    from mobitui.core.config import ConfigError
    from mobitui.runtime import open_runtime
    from mobitui.tui.app import MobituiApp

    demo = bool(args.demo)
    while True:
        runtime = None
        problem: Exception | None = None
        try:
            runtime = open_runtime(args.config, demo, start=False)
            if runtime.config.logging.debug:
                from mobitui.core import logs

                logs.start(lambda line: print(f"mobitui: {line}", file=sys.stderr))
        except ConfigError as exc:
            problem = exc
        except OSError as exc:  # e.g. the demo simulator could not bind
            problem = exc
        app = MobituiApp(runtime, problem=problem, campaign=args.campaign, read_only=args.read_only)
        try:
            choice = app.run()
        finally:
            if runtime is not None:
                runtime.close()
        if choice == "demo" and not demo:
            demo = True
            continue
        return 0 if app.return_code in (None, 0) else int(app.return_code)
