"""Textual's own Linux driver under another name, so the console uses it as given
(TEXTUAL_DRIVER=support.drivers:StockLinuxDriver): an input thread that dies of a
byte that is not UTF-8, to see how the console ends when that happens."""

from textual.drivers.linux_driver import LinuxDriver


class StockLinuxDriver(LinuxDriver):
    pass
