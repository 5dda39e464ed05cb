"""mobitui: a terminal operator console for the Mobivate subscription APIs."""

import logging

__version__ = "0.1.0"

# Without a handler of its own, a WARNING from a mobitui logger would reach Python's
# last-resort handler, which writes to stderr: over the console's screen. The debug
# log, when asked for, is set up by mobitui.core.logs.
logging.getLogger(__name__).addHandler(logging.NullHandler())
