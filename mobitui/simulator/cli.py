"""``mobitui simulator``: serve the simulated Mobivate endpoints in the foreground."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mobitui.simulator.options import SimOptions
from mobitui.simulator.samples import CORRECT_PIN, FAULTS, MAX_PIN_FAILURES, SAMPLES, SLOW_SECONDS

if TYPE_CHECKING:
    from mobitui.core.config import Config

# Only what the help text needs is imported up front: building the parser of
# the top-level `mobitui` command must not pay for starlette and uvicorn.

ENV_API_KEY = "MOBITUI_API_KEY"
DEFAULT_PORT = 8765
PROG = "mobitui simulator"

DESCRIPTION = """\
A local stand-in for the Mobivate endpoints mobitui talks to, for trying the
console and testing against misbehaviour without touching a real account.
It answers with deterministic sample subscribers and, for magic numbers,
with the network and server faults listed below.

Endpoints (the same paths as the real hosts; point both base URLs at it):
  POST /subscriptions/v1/<campaign_id>/status|unsubscribe|initiate|validate_pin
  GET  /srs/api/sendsms?USER_NAME=..&PASSWORD=..&...&STARTED=<time>+STOP&CLASS=PAUSE
  GET  /api/doi/<account_id>/<api_key>/?source=..&destination=..&...&stop=1
  GET  /_simulator/requests   GET /_simulator/stats   POST /_simulator/reset
       (control endpoints, loopback clients only, not logged)
"""


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


def samples_table() -> str:
    return _table([("MSISDN", "STATE", "NOTE"), *SAMPLES])


def faults_table() -> str:
    return _table([("MSISDN", "FAULT", "WHAT HAPPENS"), *((m, n, d) for m, (n, d) in FAULTS.items())])


def listing() -> str:
    return (
        "Sample subscribers (any campaign; the state holds until changed):\n"
        f"{samples_table()}\n\n"
        "Magic numbers (any route, any campaign):\n"
        f"{faults_table()}\n"
    )


_BEHAVIOUR = (
    "The signature is md5(account_id + campaign_id + msisdn), lowercase hex; a wrong one "
    f"answers 401. validate_pin accepts PIN {CORRECT_PIN}; after {MAX_PIN_FAILURES} wrong PINs "
    "it answers 440. The STOP marker of sendsms is accepted as %2BSTOP and as a bare +STOP "
    '(read as " STOP"). State is kept in memory per campaign and number, whichever route '
    "changed it; a restart or POST /_simulator/reset forgets it. Any other number than the "
    "samples gets a fixed state from a hash of campaign and number (about 60 % active, the "
    'rest spread over the other twelve states). "Acted on" below means the state change is '
    "applied although the answer is lost or odd; the other faults change nothing. The slow "
    f"answer comes after {SLOW_SECONDS:g} s."
)

EPILOG = f"""\
Behaviour:
{textwrap.fill(_BEHAVIOUR, width=78, initial_indent="  ", subsequent_indent="  ")}

{listing()}
Examples:
  {PROG} --demo
  {PROG} --demo --port 0 --latency-ms 200 --jitter-ms 100 --error-rate 0.05 --seed 7
  {PROG} --config ~/.config/mobitui/config.toml      (key: ${ENV_API_KEY} or the keyring)
  {PROG} --list
"""


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text}")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected more than 0, got {text}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    where = parser.add_argument_group("where to listen")
    where.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    where.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    where.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not loopback; anyone who can reach it can use the simulator",
    )
    what = parser.add_argument_group("what to serve")
    what.add_argument(
        "--demo",
        action="store_true",
        help="serve the built-in demo account and campaigns (key 'demo-key-not-a-secret')",
    )
    what.add_argument(
        "--config",
        metavar="PATH",
        help="serve the account and campaigns of this config file "
        "(default: $MOBITUI_CONFIG, else the user config file)",
    )
    what.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"API key the gateway routes accept (default: the demo key with --demo, else the key "
        f"the console would use: ${ENV_API_KEY}, then the keyring); visible to other local users "
        "in the process list, prefer the variable",
    )
    what.add_argument(
        "--list",
        action="store_true",
        help="print the sample subscribers and magic numbers, then exit",
    )
    bad = parser.add_argument_group("misbehaviour for the whole run (magic numbers come on top)")
    bad.add_argument("--latency-ms", type=_non_negative, default=0.0, metavar="MS", help="delay every answer by MS")
    bad.add_argument(
        "--jitter-ms", type=_non_negative, default=0.0, metavar="MS", help="add a random 0..MS to every delay"
    )
    bad.add_argument(
        "--error-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="answer this fraction of requests 500, 502 or 503; nothing is changed",
    )
    bad.add_argument(
        "--hang-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="never answer this fraction of requests; they are acted on",
    )
    bad.add_argument(
        "--reset-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="reset the connection (TCP RST) for this fraction of requests; nothing is changed",
    )
    bad.add_argument(
        "--rate-limit",
        type=_positive,
        default=None,
        metavar="RPS",
        help="serve at most RPS requests per second; beyond that answer 429 with Retry-After",
    )
    bad.add_argument(
        "--docs-bodies",
        action="store_true",
        help="answer in the docs' sloppy forms: True/Null on the Subscription API, "
        '{ "MT-..." } on sendsms, a trailing comma on DOI',
    )
    bad.add_argument(
        "--stop-latency-ms",
        type=_non_negative,
        default=0.0,
        metavar="MS",
        help="delay the answer to a call that changes state (an unsubscribe) by MS more",
    )
    bad.add_argument(
        "--apply-late",
        action="store_true",
        help="apply an unsubscribe when its answer leaves, after the latency, as a slow gateway "
        "does (default: on arrival); a client that gives up or dies meanwhile does not stop it",
    )
    bad.add_argument("--seed", type=int, default=None, metavar="N", help="seed the random choices (reproducible runs)")


def default_api_key(config: Config) -> tuple[str, str] | None:
    """The key the console would use for this account, and where it came from."""
    from mobitui.core import secrets

    found = secrets.lookup(config.account.account_id)
    if not found.key:
        return None
    return found.key, f"from the {found.source}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _options(args: argparse.Namespace) -> SimOptions:
    return SimOptions(
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        error_rate=args.error_rate,
        hang_rate=args.hang_rate,
        reset_rate=args.reset_rate,
        rate_limit=args.rate_limit,
        docs_bodies=args.docs_bodies,
        apply_late=args.apply_late,
        stop_latency_ms=args.stop_latency_ms,
        seed=args.seed,
    )


def _misbehaviour(options: SimOptions) -> str:
    parts = []
    if options.latency_ms or options.jitter_ms:
        parts.append(f"latency {options.latency_ms:g} ms + up to {options.jitter_ms:g} ms")
    for name in ("error_rate", "hang_rate", "reset_rate"):
        if getattr(options, name):
            parts.append(f"{name.replace('_', ' ')} {getattr(options, name):g}")
    if options.rate_limit:
        parts.append(f"rate limit {options.rate_limit:g}/s")
    if options.docs_bodies:
        parts.append("docs bodies")
    if options.stop_latency_ms:
        parts.append(f"unsubscribes answered {options.stop_latency_ms:g} ms later")
    if options.apply_late:
        parts.append("unsubscribes applied as the answer leaves")
    if options.seed is not None:
        parts.append(f"seed {options.seed}")
    return ", ".join(parts) or "none (magic numbers only)"


def _banner(url: str, config: Config, key_source: str, options: SimOptions) -> str:
    rows = [
        ("Subscription API", f"{url}/subscriptions/v1"),
        ("Gateway", f"{url}  (/srs/api/sendsms, /api/doi/...)"),
        ("Account", config.account.account_id),
        ("API key", key_source),
        ("Misbehaviour", _misbehaviour(options)),
    ]
    width = max(len(c.name) for c in config.campaigns)
    rows += [
        ("Campaign", f"{c.name.ljust(width)}  {c.campaign_id}  {c.unsubscribe_via.value}") for c in config.campaigns
    ]
    return (
        f"mobitui simulator listening on {url}  (Ctrl-C to stop)\n"
        + _table([(label, value) for label, value in rows])
        + f"\n  Samples and magic numbers: {PROG} --list"
    )


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(listing(), end="")
        return 0

    from mobitui.core.config import ConfigError, load
    from mobitui.simulator.demo import DEMO_API_KEY, demo_config
    from mobitui.simulator.server import bind_socket, run_forever, url_of

    try:
        options = _options(args)
    except ValueError as exc:
        return _fail(str(exc))
    if not _is_loopback(args.host) and not args.allow_remote:
        return _fail(
            f"refusing to listen on {args.host}: it is not a loopback address, and anyone who can "
            "reach the simulator can use it. Add --allow-remote if you mean it."
        )

    sock: socket.socket | None = None
    try:
        if args.demo:
            sock = bind_socket(args.host, args.port)
            config = demo_config(url_of(sock))
        else:
            config = load(args.config)
        # The demo always serves the demo key: a production key that happens to
        # be in the environment must not end up in a demo.
        if args.api_key:
            key, key_source = args.api_key, "from --api-key"
        elif args.demo:
            key, key_source = DEMO_API_KEY, f"the demo key {DEMO_API_KEY!r}"
        elif (found := default_api_key(config)) is not None:
            key, key_source = found
        else:
            if sock:
                sock.close()
            return _fail(
                f"no API key to serve: give --api-key, set ${ENV_API_KEY}, store one with "
                "`mobitui auth set`, or use --demo"
            )
        sock = sock or bind_socket(args.host, args.port)
    except ConfigError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")

    def ready(url: str) -> None:
        print(_banner(url, config, key_source, options), flush=True)

    run_forever(config, key, options, sock=sock, on_ready=ready)
    print("mobitui simulator stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG)
    add_arguments(parser)
    return run(parser.parse_args(argv))
