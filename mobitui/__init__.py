"""mobitui: a terminal operator console for the Mobivate subscription APIs."""

__version__ = "0.1.0"
