"""Docker HEALTHCHECK probe: exit 0 when `/ping` answers 200 on the serving port."""

from __future__ import annotations

import sys
import urllib.request

from inferpipe.serving.settings import ServingSettings


def main() -> int:
    port = ServingSettings.from_environ().port
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
