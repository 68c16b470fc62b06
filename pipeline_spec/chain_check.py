"""The schema chain check: does each container emit what the next one was built to read?

A width mismatch between hops otherwise shows up only as a 400 from the next container
at the first request. Before anything starts or deploys, each container's local artifact
is asked for its interface (`protocol.interface`): from `inferpipe-interface.json` inside
a packaged model.tar.gz when `package` wrote one (data, nothing loaded), else by loading
the stage in a child process (`serving.interface_probe`; a joblib artifact runs code when
loaded, so never in this process). Hops whose sides cannot be read are reported as not
checked, with the reason, and do not fail the spec.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from inferpipe.pipeline_spec import builtins
from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.local.artifacts import safe_extract
from inferpipe.pipeline_spec.local.engines import LOCAL_BUILTINS, base_environment
from inferpipe.pipeline_spec.model import ContainerSpec, PipelineSpec
from inferpipe.pipeline_spec.resolve import (
    DEFAULT_ACCEPT_VAR,
    SCHEMA_FILE,
    SPARKML_SCHEMA_VAR,
    ResolvedContainer,
    resolve_containers,
)
from inferpipe.protocol import media, names
from inferpipe.protocol.errors import ArtifactError
from inferpipe.protocol.interface import INTERFACE_FILE, Columns, StageInterface

PROBE_TIMEOUT_SECONDS = 300
#: Media types whose records carry column names from one container to the next.
NAMED_TYPES = {media.JSON, media.JSONLINES}

#: An interface, or the reason there is none.
Inspected = StageInterface | str
Inspector = Callable[[Path, dict[str, str]], Inspected]


@dataclass(frozen=True)
class HopCheck:
    """The verdict on one hop: container `sender` → `receiver` of model `model`."""

    model: str
    index: int
    sender: str
    receiver: str
    outcome: Literal["ok", "mismatch", "unchecked"]
    message: str

    @property
    def path(self) -> str:
        return f"models.{self.model}.containers[{self.index}]"

    def line(self) -> str:
        return f"{self.model}: {self.sender} -> {self.receiver}: {self.message}"


@dataclass(frozen=True)
class ChainReport:
    hops: tuple[HopCheck, ...]
    #: (model, container) -> what inspecting its artifact gave; `package` records these.
    interfaces: dict[tuple[str, str], Inspected]

    @property
    def problems(self) -> list[HopCheck]:
        return [h for h in self.hops if h.outcome == "mismatch"]

    def raise_for_problems(self, source: str) -> None:
        """SpecError listing every mismatched hop (both sides named)."""
        if self.problems:
            raise SpecError(
                f"{source}: the schema chain check failed:\n  "
                + "\n  ".join(f"{h.path}: {h.message}" for h in self.problems)
            )


def _stage_for(container: ContainerSpec, resolved: ResolvedContainer) -> str | None:
    """The stage kind that reads the artifact, "" to detect it; None when inferpipe cannot."""
    if container.local and container.local.stage:
        return container.local.stage
    if container.builtin is not None:
        stand_in = LOCAL_BUILTINS.get(container.builtin.algorithm)
        return stand_in[1] if stand_in else None
    if builtins.is_inferpipe_image(resolved.image):
        return resolved.environment.get(names.STAGE, "")
    return None


def probe_environment(model_dir: Path, environment: dict[str, str]) -> dict[str, str]:
    """The child's environment: PATH and friends of ours, then the container's."""
    return {
        **base_environment(),
        **environment,
        names.MODEL_DIR: str(model_dir),
        names.FAST_PATH: "false",
        "OMP_NUM_THREADS": "1",
    }


def inspect_in_child(model_dir: Path, environment: dict[str, str]) -> Inspected:
    """Load the stage in a child process and read the interface it prints."""
    try:
        finished = subprocess.run(
            [sys.executable, "-P", "-m", "inferpipe.serving.interface_probe"],
            env=probe_environment(model_dir, environment),
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"loading the artifact took over {PROBE_TIMEOUT_SECONDS} s"
    lines = finished.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        answer = {}
    if "interface" in answer:
        return StageInterface.from_json(answer["interface"])
    if "error" in answer:
        return f"its artifact could not be loaded here: {answer['error']}"
    tail = (finished.stderr.strip().splitlines() or ["no output"])[-1]
    return f"inspecting the artifact failed (exit {finished.returncode}): {tail}"


def _recorded(tarball: Path) -> StageInterface | None:
    """The interface `package` stored in a model.tar.gz (None when it has none)."""
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            member = archive.getmember(INTERFACE_FILE)
        except KeyError:
            return None
        handle = archive.extractfile(member) if member.isfile() else None
        if handle is None:
            return None
        return StageInterface.from_json(json.loads(handle.read()))


def inspect_container(
    container: ContainerSpec,
    resolved: ResolvedContainer,
    spec_dir: Path,
    inspector: Inspector = inspect_in_child,
) -> Inspected:
    """The interface of one container's artifact, or why it cannot be had."""
    stage = _stage_for(container, resolved)
    if stage is None:
        what = f"built-in {container.builtin.algorithm}" if container.builtin else resolved.image
        return f"{what} is not a stage inferpipe can read (set `local.stage` if it is one)"
    if resolved.artifact is None:
        return "it has no artifact"
    if resolved.artifact.startswith("s3://"):
        return "its artifact is in S3 (only local artifacts are inspected)"
    environment = dict(resolved.environment)
    if stage:
        environment[names.STAGE] = stage
    if SCHEMA_FILE in resolved.artifact_files:
        environment[SPARKML_SCHEMA_VAR] = resolved.artifact_files[SCHEMA_FILE]
    source = (spec_dir / resolved.artifact).resolve()
    if source.is_dir():
        return inspector(source, environment)
    if source.is_file() and source.name.endswith((".tar.gz", ".tgz")):
        try:
            recorded = _recorded(source)
        except (OSError, tarfile.TarError, ValueError) as exc:
            return f"{source} cannot be read: {exc}"
        if recorded is not None:
            return recorded
        with tempfile.TemporaryDirectory(prefix="inferpipe-check-") as work:
            try:
                safe_extract(source, Path(work))
            except ArtifactError as exc:
                return exc.message
            return inspector(Path(work), environment)
    return f"its artifact {source} is neither a directory nor a .tar.gz"


def _features(count: int | None) -> str:
    return f"{count} feature" + ("" if count == 1 else "s")


def compare(
    sender: str, emitted: Columns, receiver: str, received: StageInterface, sent: str
) -> tuple[str, str]:
    """(outcome, message) for one hop whose two sides are known."""
    expected = received.inputs
    assert expected is not None
    verb = "was trained on" if received.fitted_inputs else "reads"
    if emitted.width is not None and expected.width is not None and emitted.width != expected.width:
        return "mismatch", (
            f"{sender} emits {_features(emitted.width)}; {receiver} {verb} {expected.width} "
            f"({sender}: {emitted.source}; {receiver}: {expected.source})"
        )
    if emitted.names and expected.names:
        if sent in NAMED_TYPES:
            missing = [n for n in expected.names if n not in emitted.names]
            if missing:
                return "mismatch", (
                    f"{receiver} {verb} columns {missing} that {sender} does not emit "
                    f"({sent} records carry names)"
                )
        elif set(emitted.names) == set(expected.names) and emitted.names != expected.names:
            moved = [
                f"{a} (position {i + 1}) is {b} for {receiver}"
                for i, (a, b) in enumerate(zip(emitted.names, expected.names, strict=True))
                if a != b
            ][:3]
            return "mismatch", (
                f"{sender} emits the columns {receiver} {verb} in another order, and {sent} "
                f"is positional: {'; '.join(moved)}"
            )
    return "ok", (
        f"{sender} emits {_features(emitted.width)}, {receiver} {verb} {expected.width}: they "
        f"match ({sender}: {emitted.source}; {receiver}: {expected.source})"
    )


def _hop(
    model: str, index: int, pair: tuple[str, str], sides: tuple[Inspected, Inspected], sent: str
) -> HopCheck:
    sender, receiver = pair
    emitted, received = sides
    reasons = []
    if isinstance(emitted, str):
        reasons.append(f"{sender}'s output: {emitted}")
    elif emitted.outputs is None or emitted.outputs.width is None:
        why = emitted.outputs.source if emitted.outputs else "it does not say"
        reasons.append(f"{sender} ({emitted.kind}) does not tell its output width: {why}")
    if isinstance(received, str):
        reasons.append(f"{receiver}'s input: {received}")
    elif received.inputs is None:
        reasons.append(f"{receiver} ({received.kind}) does not declare its input columns")
    if reasons:
        return HopCheck(
            model, index, sender, receiver, "unchecked", "not checked: " + "; ".join(reasons)
        )
    assert not isinstance(emitted, str) and emitted.outputs is not None
    assert not isinstance(received, str)
    outcome, message = compare(sender, emitted.outputs, receiver, received, sent)
    return HopCheck(model, index, sender, receiver, outcome, message)  # type: ignore[arg-type]


def _model_hops(
    key: str,
    spec: PipelineSpec,
    spec_dir: Path,
    inspector: Inspector,
    progress: Callable[[str], None],
    found: dict[tuple[str, str], Inspected],
) -> Iterator[HopCheck]:
    model = spec.models[key]
    resolved = resolve_containers(model, spec.region)
    progress(f"inspecting the artifacts of {key}: {', '.join(c.name for c in model.containers)}")
    # One child process per container, side by side: each mostly waits on imports.
    with ThreadPoolExecutor(max_workers=min(len(resolved), os.cpu_count() or 1)) as pool:
        inspected = list(
            pool.map(
                lambda pair: inspect_container(pair[0], pair[1], spec_dir, inspector),
                zip(model.containers, resolved, strict=True),
            )
        )
    for container, result in zip(model.containers, inspected, strict=True):
        found[(key, container.name)] = result
    for index in range(len(resolved) - 1):
        sent = media.parse_media_type(resolved[index].environment[DEFAULT_ACCEPT_VAR]).type
        pair = (resolved[index].name, resolved[index + 1].name)
        yield _hop(key, index, pair, (inspected[index], inspected[index + 1]), sent)


def check_chain(
    spec: PipelineSpec,
    spec_dir: Path,
    inspector: Inspector = inspect_in_child,
    progress: Callable[[str], None] = lambda _line: None,
) -> ChainReport:
    """Check every hop of every Serial model (Direct mode has no hops)."""
    hops: list[HopCheck] = []
    found: dict[tuple[str, str], Inspected] = {}
    for key, model in spec.models.items():
        if model.execution_mode == "Serial" and len(model.containers) > 1:
            hops.extend(_model_hops(key, spec, spec_dir, inspector, progress, found))
    return ChainReport(tuple(hops), found)


def require_chain(
    spec: PipelineSpec,
    spec_dir: Path,
    source: str,
    report: Callable[[str], None],
    progress: Callable[[str], None] = lambda _line: None,
) -> ChainReport:
    """Check the chain, `report` each hop's verdict, and raise SpecError on a mismatch."""
    checked = check_chain(spec, spec_dir, progress=progress)
    for hop in checked.hops:
        if hop.outcome != "mismatch":
            report(f"chain: {hop.line()}")
    checked.raise_for_problems(source)
    return checked
