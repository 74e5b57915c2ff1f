"""``python -m mock_server`` — the same commands as ``dmp mock`` (``serve`` unless another command is named)."""

from __future__ import annotations

import sys

from mock_server.cli import app, module_args

if __name__ == "__main__":
    app(args=module_args(sys.argv[1:]), prog_name="python -m mock_server")
