"""The core: config, MSISDN parsing, API client, journal, bulk engine.

Nothing under this package imports Textual; the console and the CLI are thin
layers over it.
"""
