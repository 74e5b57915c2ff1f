"""``python -m mock_server`` — the same commands as ``dmp mock`` (``serve`` when none is given)."""

from __future__ import annotations

import sys

from mock_server.cli import app

if __name__ == "__main__":
    app(args=sys.argv[1:] or ["serve"], prog_name="python -m mock_server")
