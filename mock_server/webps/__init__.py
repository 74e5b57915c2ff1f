"""The mock's web PS site (TD0.9 pages, TD0.10 AIR entry): :class:`~mock_server.webps.site.WebPs`."""

from mock_server.webps.site import WebPs

__all__ = ["WebPs"]
