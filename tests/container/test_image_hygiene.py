"""What the built images carry: no credentials or build-time secrets in any layer's
command, in the image config or on the image filesystem, and no build inputs left behind;
and what they may install: only wheels whose sha256 is in wheels.lock."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from inferpipe_testing.containers import REPO_ROOT, docker
from inferpipe_testing.images import base_image

#: Strings that are credentials wherever they appear (AWS key ids, private keys, basic auth).
SECRET_PATTERNS = (
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    re.compile(r"(?i)(password|secret|token)\s*[=:]\s*\S+"),
    re.compile(r"https?://[^/\s:@]+:[^/\s@]+@"),
)

#: Files that hold credentials or build inputs, looked for on the whole filesystem.
FORBIDDEN_FILES = (
    ".netrc",
    ".pypirc",
    "credentials",
    "config.json",
    "pip.conf",
    ".git-credentials",
)
FORBIDDEN_DIRS = ("/wheelhouse", "/root/.aws", "/root/.docker", "/tmp/.aws")

FIND_SCRIPT = """
import json, os, sys
names, found = set(sys.argv[1].split(",")), []
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
    found += [os.path.join(root, f) for f in files if f in names]
present = [d for d in sys.argv[2].split(",") if os.path.exists(d)]
print(json.dumps({"files": found, "dirs": present}))
"""


def _secrets_in(text: str) -> list[str]:
    return [match.group(0) for pattern in SECRET_PATTERNS for match in pattern.finditer(text)]


@pytest.mark.parametrize("name", ["preprocess", "postprocess"])
def test_no_layer_or_config_carries_a_secret(images: dict[str, str], name: str) -> None:
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", images[name]).stdout
    assert "RUN" in history or "COPY" in history  # the history is really there
    (config,) = json.loads(docker("image", "inspect", images[name]).stdout)
    environment = "\n".join(config["Config"]["Env"])
    labels = json.dumps(config["Config"]["Labels"])
    assert _secrets_in(history) == []
    assert _secrets_in(environment + labels) == []
    assert "REGISTRY_PASSWORD" not in history + environment


def test_the_patterns_catch_what_they_are_for() -> None:
    assert _secrets_in("ENV AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP")
    assert _secrets_in("RUN pip install --index-url https://user:hunter2@pypi.example/simple x")
    assert _secrets_in("ARG password=hunter2")
    assert not _secrets_in("RUN /opt/inferpipe/bin/pip install --no-index --find-links /wheelhouse")


@pytest.mark.parametrize("name", ["preprocess", "postprocess"])
def test_the_filesystem_holds_no_credentials_or_build_inputs(
    images: dict[str, str], name: str
) -> None:
    done = docker(
        "run", "--rm", "--read-only", "--network", "none", "--entrypoint", "python3",
        images[name], "-c", FIND_SCRIPT, ",".join(FORBIDDEN_FILES), ",".join(FORBIDDEN_DIRS),
    )  # fmt: skip
    found = json.loads(done.stdout)
    # certifi, botocore and friends ship data files that are not credentials.
    suspicious = [f for f in found["files"] if "/site-packages/" not in f]
    assert suspicious == []
    assert found["dirs"] == []


def _tampered_copy(context: Path, target: Path) -> str:
    """Copy a build context and add one file to its smallest dependency wheel: still a
    valid wheel, no longer the one the index served. Returns the wheel's project name."""
    shutil.copytree(context, target)
    wheels = [
        w for w in (target / "wheelhouse").glob("*.whl") if not w.name.startswith("inferpipe")
    ]
    victim = min(wheels, key=lambda wheel: wheel.stat().st_size)
    with zipfile.ZipFile(victim, "a") as archive:
        archive.writestr("planted.py", "import os\nos.system('id')\n")
    return victim.name.split("-")[0]


def test_a_tampered_wheelhouse_fails_the_image_build(
    images: dict[str, str], tmp_path: Path
) -> None:
    context = REPO_ROOT / "build" / "images" / "context-postprocess"
    assert "--hash=sha256:" in (context / "requirements.txt").read_text()
    project = _tampered_copy(context, tmp_path / "context")
    build = ["build", "--file", str(REPO_ROOT / "Dockerfile.postprocess")]
    base = base_image()
    if base:
        build += ["--build-arg", f"BASE_IMAGE={base}"]
    done = docker(*build, str(tmp_path / "context"), check=False, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-2000:]
    assert "DO NOT MATCH THE HASHES" in output, output[-2000:]
    assert project.replace("_", "-").lower() in output.replace("_", "-").lower()
