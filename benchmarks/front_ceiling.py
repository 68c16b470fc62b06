"""Benchmark: the local endpoint's front alone, against the HTTP ceiling of three hops.

    python -P benchmarks/front_ceiling.py [--duration 5] [--transports hop-client,urllib3]

Three echo stages (hand-made Flask apps under gunicorn, one sync worker each: they cost
the same whatever calls them) sit behind, in turn, the hand-made Flask router of
`handmade_chain.py` (2 gunicorn workers, urllib3) and inferpipe's InvokeEndpoint front
(one process, a thread per connection) with each container transport. wrk sends one
CSV row at c = 1, 4, 16; the table gives requests/s, p50 / p99 and the ratio to the
hand-made router measured in the same run. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from matrix import (  # noqa: E402
    LUA,
    Cell,
    Server,
    free_port,
    handmade_chain,
    run_wrk,
    start,
    stop,
)

FRONT = """
import sys
from inferpipe.pipeline_spec.local.endpoint import LocalEndpoint, LocalVariant
from inferpipe.pipeline_spec.local.front import FrontServer, pooled_transport
from inferpipe.protocol.chain import Hop
port, transport, stages = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
if transport == "urllib3":
    import urllib3
    pool = urllib3.PoolManager(maxsize=16, retries=False)
    def send(url, body, headers, timeout):
        answer = pool.request("POST", url, body=body, headers=headers,
                              timeout=urllib3.Timeout(connect=5, read=timeout))
        return answer.status, dict(answer.headers), answer.data
else:
    send = pooled_transport()
hops = tuple(Hop(f"container-{i + 1}", url) for i, url in enumerate(stages))
endpoint = LocalEndpoint("bench", "us-east-1", [LocalVariant("A", 1.0, "Serial", hops)], send)
FrontServer(port, {"bench": endpoint}).serve_forever()
"""


def front_server(transport: str, stage_urls: list[str]) -> Server:
    port = free_port()
    return Server(
        f"inferpipe front ({transport})",
        [sys.executable, "-P", "-c", FRONT, str(port), transport, ",".join(stage_urls)],
        {},
        f"http://127.0.0.1:{port}/ping",
        f"http://127.0.0.1:{port}/endpoints/bench/invocations",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--transports", default="hop-client,urllib3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inferpipe-front-") as folder:
        work = Path(folder)
        script = work / "post.lua"
        script.write_text(LUA)
        body = work / "one.csv"
        body.write_text("M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n")
        router = handmade_chain("hand-made router", work, ("echo",) * 3)
        helpers = [start(h, work / f"{h.name}.log")[0] for h in router.helpers]
        stage_urls = [h.ping_url.removesuffix("/ping") for h in router.helpers]
        servers = [router] + [front_server(t, stage_urls) for t in args.transports.split(",")]
        results: dict[str, dict[int, Cell]] = {}
        try:
            for server in servers:
                process, _ = start(server, work / f"{server.name}.log")
                try:
                    run_wrk(server.invoke_url, body, 1, 1, script)
                    results[server.name] = {
                        c: run_wrk(server.invoke_url, body, c, args.duration, script)
                        for c in (1, 4, 16)
                    }
                finally:
                    stop(process)
        finally:
            for helper in helpers:
                stop(helper)
    base = results[router.name]
    print(f"| server (3 echo stages behind it) | {' | '.join(f'c={c}' for c in base)} |")
    print("|---|---|---|---|")
    for name, cells in results.items():
        row = [
            f"{cell.rps:.0f} rps ({cell.p50_ms:.1f} / {cell.p99_ms:.1f} ms) "
            f"**{cell.rps / base[c].rps:.2f}x**"
            for c, cell in cells.items()
        ]
        print(f"| {name} | {' | '.join(row)} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
