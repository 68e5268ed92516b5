#!/usr/bin/env python3
"""Health check of the Maillon image: GET the node's /health on the port node.toml names.

Exit 0 when the node answers ``{"status": "ok", ...}``, 1 otherwise (Docker's
HEALTHCHECK contract). Standard library only, so it runs on any Python 3.11+.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
import urllib.request
from pathlib import Path

WILDCARDS = {"", "0.0.0.0", "::"}


def health_url(config: dict) -> str:
    """Where the node answers from inside its own container."""
    host = str(config.get("host", "127.0.0.1"))
    if host in WILDCARDS:
        host = "127.0.0.1" if host != "::" else "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{int(config.get('port', 8470))}/health"


def main() -> int:
    data = Path(os.environ.get("MAILLON_DATA", "/data"))
    try:
        config = tomllib.loads((data / "node.toml").read_text(encoding="utf-8"))
        with urllib.request.urlopen(health_url(config), timeout=4) as response:
            status = json.load(response).get("status")
    except (OSError, ValueError) as exc:  # no node yet, refused, timed out, not JSON
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if status != "ok":
        print(f"unhealthy: status {status!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
