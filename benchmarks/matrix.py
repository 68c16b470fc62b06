"""Speed, side by side in one run: the hand-made baseline, one inferpipe container,
MLflow's scoring server (keep-alive and connection-close), a hand-made router over three
hand-made stages (and over three echo stages: the HTTP ceiling of three hops), and the
local endpoint with the same three stages, separate and fused, on the process engine and
(when the images are built) the docker engine, over c in {1, 4, 16} by {1 row, 1,000 rows}.

    python -P benchmarks/matrix.py [--duration 10] [--out benchmarks/results] [--no-mlflow]

Load comes from wrk (keep-alive connections, loopback only), one cell at a time, each
server alone on the machine. Prints one table of requests/s, p50 and p99 with ratios
against the baseline measured in the same run, plus cold start to the first /ping and
each local endpoint's own time per request beyond its container calls (from its
/metrics); writes it as markdown and a PNG. Numbers are this machine's: compare ratios, not times.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mlflow_server import mlflow_command, mlflow_model, mlflow_venv  # noqa: E402
from workload import build_workload  # noqa: E402

CONCURRENCY = (1, 4, 16)
BODIES = (("1 row", "one.csv"), ("1,000 rows", "many.csv"))
LUA = """
local f = io.open(os.getenv("BODY_FILE"), "rb")
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "text/csv"
"""
#: The same requests, each on a new connection (how many clients call MLflow's server).
LUA_CLOSE = LUA + 'wrk.headers["Connection"] = "close"\n'


@dataclass(frozen=True)
class Cell:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    ping_url: str
    invoke_url: str
    #: Processes it calls (a hand-made router's stages), started before it.
    helpers: list[Server] = field(default_factory=list)
    #: Its CSV wants a header row (MLflow reads CSV with pandas' defaults).
    header: bool = False
    #: Every request on a new connection.
    close: bool = False
    #: A local endpoint's Prometheus text: its own time per request beyond the hops.
    metrics_url: str | None = None

    def body(self, work: Path, name: str) -> Path:
        return work / (name.replace(".csv", "-header.csv") if self.header else name)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(server: Server, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server; returns the process and seconds to its first /ping 200."""
    started = time.monotonic()
    process = subprocess.Popen(
        server.command,
        env={**os.environ, **server.env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=HERE,
        start_new_session=True,
    )
    while time.monotonic() - started < 120:
        try:
            with urllib.request.urlopen(server.ping_url, timeout=1) as answer:
                if answer.status == 200:
                    return process, time.monotonic() - started
        except OSError:
            time.sleep(0.05)
        if process.poll() is not None:
            break
    raise SystemExit(f"{server.name} did not start; see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


def _millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, body: Path, connections: int, seconds: float, script: Path) -> Cell:
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BODY_FILE": str(body)},
        check=True,
    )
    out = done.stdout
    percentile = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, flags=re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if "50" not in percentile or "99" not in percentile:
        # A cell without a latency distribution is reported, not fatal to the run.
        print(f"[bench] wrk gave no latency percentiles for {url}:\n{out}", file=sys.stderr)
    return Cell(
        float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        _millis(percentile["50"]) if "50" in percentile else float("nan"),
        _millis(percentile["99"]) if "99" in percentile else float("nan"),
        int(errors[1]) if errors else 0,
    )


def _gunicorn(port: int, app: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]


def handmade_chain(name: str, work: Path, roles: tuple[str, ...]) -> Server:
    """A hand-made Flask router over three hand-made Flask stages (one sync worker each,
    as the local endpoint runs one worker per container; the router has two)."""
    stages = []
    for role in roles:
        port = free_port()
        stages.append(
            Server(
                f"{name} {role}",
                _gunicorn(port, "handmade_chain:app", 1),
                {"HANDMADE_ROLE": role, "HANDMADE_MODEL_DIR": str(work)},
                f"http://127.0.0.1:{port}/ping",
                f"http://127.0.0.1:{port}/invocations",
            )
        )
    router = free_port()
    return Server(
        name,
        _gunicorn(router, "handmade_chain:app", 2),
        {
            "HANDMADE_ROLE": "router",
            "HANDMADE_STAGES": ",".join(s.ping_url.removesuffix("/ping") for s in stages),
        },
        f"http://127.0.0.1:{router}/ping",
        f"http://127.0.0.1:{router}/invocations",
        stages,
    )


def local_endpoint(name: str, work: Path, spec: Path, engine: str = "process") -> Server:
    front = free_port()
    command = [sys.executable, "-P", "-m", "inferpipe", "local", "up", str(spec)]
    command += ["--engine", engine, "--port", str(front)]
    command += ["--state-dir", str(work / f"state-{spec.stem}-{engine}")]
    return Server(
        name,
        command,
        {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"},
        f"http://127.0.0.1:{front}/ping",
        f"http://127.0.0.1:{front}/endpoints/bench/invocations",
        metrics_url=f"http://127.0.0.1:{front}/metrics",
    )


@dataclass(frozen=True)
class HopShare:
    """Per request in one cell: the front's own milliseconds and its container calls'."""

    front_ms: float
    hops_ms: float


#: The local endpoint's summaries (summed over variants) that split its latency.
_FRONT, _HOPS = "inferpipe_overhead_latency_seconds", "inferpipe_model_latency_seconds"
_SCRAPED = {f"{m}_{part}" for m in (_FRONT, _HOPS) for part in ("sum", "count")}


def scrape_totals(url: str) -> dict[str, float]:
    """`<summary>_sum` and `<summary>_count` of the front's and the hops' latency."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    totals: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if name in _SCRAPED:
            totals[name] += float(rest.rsplit(" ", 1)[1])
    return totals


def hop_share(before: dict[str, float], after: dict[str, float]) -> HopShare:
    def mean_ms(metric: str) -> float:
        calls = after[f"{metric}_count"] - before[f"{metric}_count"]
        seconds = after[f"{metric}_sum"] - before[f"{metric}_sum"]
        return 1000 * seconds / calls if calls else float("nan")

    return HopShare(mean_ms(_FRONT), mean_ms(_HOPS))


def _images_built() -> bool:
    """The local inferpipe images the docker engine runs (`./build.sh build`)."""
    if shutil.which("docker") is None:
        return False
    images = ["inferpipe-preprocess:latest", "inferpipe-postprocess:latest"]
    done = subprocess.run(["docker", "image", "inspect", *images], capture_output=True, check=False)
    return done.returncode == 0


def mlflow_servers(work: Path) -> list[Server]:
    bin_dir = mlflow_venv()
    model = mlflow_model(bin_dir, work / "mlflow")
    out = []
    for name, close in (("MLflow", False), ("MLflow, connection-close", True)):
        port = free_port()
        command, env = mlflow_command(bin_dir, model, port, 2)
        url = f"http://127.0.0.1:{port}"
        out.append(
            Server(
                name, command, env, f"{url}/ping", f"{url}/invocations", header=True, close=close
            )
        )
    return out


def docker_servers(work: Path, spec: Path) -> list[Server]:
    if not _images_built():
        print(
            "[bench] docker cells skipped: no inferpipe images (./build.sh build)", file=sys.stderr
        )
        return []
    return [
        local_endpoint("local endpoint, docker (3 containers)", work, spec, "docker"),
        local_endpoint(
            "local endpoint, docker, fused", work, spec.with_name("fused.yaml"), "docker"
        ),
    ]


def compiled_server(work: Path) -> Server:
    """`inferpipe serve` of the compiled form (no scikit-learn import at start)."""
    port = free_port()
    return Server(
        "inferpipe, compiled artifact",
        [sys.executable, "-P", "-m", "inferpipe", "serve", "--model-dir", str(work / "compiled")],
        {"SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": "2"},
        f"http://127.0.0.1:{port}/ping",
        f"http://127.0.0.1:{port}/invocations",
    )


def servers(work: Path, spec: Path, smoke: bool, with_mlflow: bool) -> list[Server]:
    python = sys.executable
    base, ours = free_port(), free_port()
    extra = [] if smoke else docker_servers(work, spec)
    extra += mlflow_servers(work) if with_mlflow and not smoke else []
    return [
        Server(
            "baseline",
            _gunicorn(base, "baseline_app:app", 2),
            {"BASELINE_MODEL_DIR": str(work / "whole")},
            f"http://127.0.0.1:{base}/ping",
            f"http://127.0.0.1:{base}/invocations",
        ),
        Server(
            "inferpipe",
            [python, "-P", "-m", "inferpipe", "serve", "--model-dir", str(work / "whole")],
            {"SAGEMAKER_BIND_TO_PORT": str(ours), "SAGEMAKER_MODEL_SERVER_WORKERS": "2"},
            f"http://127.0.0.1:{ours}/ping",
            f"http://127.0.0.1:{ours}/invocations",
        ),
        *([] if smoke else [compiled_server(work)]),
        handmade_chain("hand-made router + 3 echo stages", work, ("echo",) * 3),
        handmade_chain(
            "hand-made router + 3 Flask stages", work, ("preprocess", "model", "postprocess")
        ),
        local_endpoint("local endpoint (3 containers)", work, spec),
        local_endpoint("local endpoint, fused (1 container)", work, spec.with_name("fused.yaml")),
        *extra,
    ]


def measure(
    work: Path, duration: float, smoke: bool = False, with_mlflow: bool = True
) -> tuple[dict[str, dict[str, Cell]], dict[str, float], dict[str, dict[str, HopShare]]]:
    keep_alive, close = work / "post.lua", work / "post-close.lua"
    keep_alive.write_text(LUA)
    close.write_text(LUA_CLOSE)
    spec = build_workload(work)
    results: dict[str, dict[str, Cell]] = {}
    cold: dict[str, float] = {}
    shares: dict[str, dict[str, HopShare]] = {}
    for server in servers(work, spec, smoke, with_mlflow):
        script = close if server.close else keep_alive
        helpers = [start(h, work / f"{h.name}.log")[0] for h in server.helpers]
        process, cold[server.name] = start(server, work / f"{server.name}.log")
        print(
            f"[bench] {server.name}: first /ping after {cold[server.name]:.2f} s", file=sys.stderr
        )
        try:
            results[server.name] = {}
            for label, name in BODIES[:1] if smoke else BODIES:
                body = server.body(work, name)
                run_wrk(server.invoke_url, body, 1, 1, script)  # warm up
                for connections in CONCURRENCY[:1] if smoke else CONCURRENCY:
                    key = f"{label}, c={connections}"
                    before = scrape_totals(server.metrics_url) if server.metrics_url else None
                    cell = run_wrk(server.invoke_url, body, connections, duration, script)
                    results[server.name][key] = cell
                    print(f"[bench] {server.name} {key}: {cell}", file=sys.stderr)
                    if server.metrics_url and before is not None:
                        share = hop_share(before, scrape_totals(server.metrics_url))
                        shares.setdefault(server.name, {})[key] = share
        finally:
            for begun in [process, *helpers]:
                stop(begun)
    return results, cold, shares


def render_shares(shares: dict[str, dict[str, HopShare]]) -> list[str]:
    """The local endpoints' own time per request beyond their hops, from `/metrics`."""
    if not shares:
        return []
    names = list(shares)
    lines = [
        "",
        "The local endpoint's own time per request beyond its container calls, from its",
        "`/metrics` (overhead and model latency summaries over each cell), in ms:",
        "front / container calls (the front's share):",
        "",
        "| cell | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for cell in shares[names[0]]:
        row = [cell]
        for name in names:
            share = shares[name].get(cell)
            if share is None:
                row.append("-")
                continue
            part = share.front_ms / (share.front_ms + share.hops_ms)
            row.append(f"{share.front_ms:.2f} / {share.hops_ms:.2f} ({part:.0%})")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def render(
    results: dict[str, dict[str, Cell]],
    cold: dict[str, float],
    command: str,
    shares: dict[str, dict[str, HopShare]] | None = None,
) -> str:
    names = list(results)
    cells = list(results[names[0]])
    head = "| cell | " + " | ".join(f"{n} rps (p50 / p99 ms)" for n in names[1:])
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with `{command}`.",
        "",
        f"| cell | baseline rps (p50 / p99 ms) {head[6:]} |",
        "|---" * len(names) + "|---|",
    ]
    lines[-1] = "|---" * (len(names) + 1) + "|"
    for cell in cells:
        base = results["baseline"][cell]
        row = [cell, f"{base.rps:.0f} ({base.p50_ms:.1f} / {base.p99_ms:.1f})"]
        for name in names[1:]:
            got = results[name][cell]
            errors = f", {got.errors} errors" if got.errors else ""
            row.append(
                f"{got.rps:.0f} ({got.p50_ms:.1f} / {got.p99_ms:.1f}) "
                f"**{got.rps / base.rps:.2f}x**{errors}"
            )
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "Cold start to the first `/ping` 200: "
        + ", ".join(f"{n} {s:.2f} s" for n, s in cold.items()),
    ]
    lines += render_shares(shares or {})
    return "\n".join(lines) + "\n"


def plot(results: dict[str, dict[str, Cell]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    cells = list(results[names[0]])
    figure, axis = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(names)
    for index, name in enumerate(names):
        values = [results[name][c].rps for c in cells]
        axis.bar([i + index * width for i in range(len(cells))], values, width, label=name)
    axis.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(cells))], cells)
    axis.set_ylabel("requests / s (higher is better)")
    axis.set_title("inferpipe vs the hand-made Flask app, same run")
    axis.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per cell")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--smoke", action="store_true", help="one short cell (CI)")
    parser.add_argument(
        "--no-mlflow", action="store_true", help="skip MLflow (its virtualenv is made once)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="inferpipe-matrix-"))
    results, cold, shares = measure(
        work, 1 if args.smoke else args.duration, args.smoke, not args.no_mlflow
    )
    args.out.mkdir(parents=True, exist_ok=True)
    command = (
        "benchmarks/run.sh --smoke"
        if args.smoke
        else f"benchmarks/run.sh --duration {args.duration:g}"
    )
    table = render(results, cold, command, shares)
    (args.out / "matrix.md").write_text(table)
    plot(results, args.out / "matrix.png")
    print(table)
    print(f"written: {args.out / 'matrix.md'}, {args.out / 'matrix.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
