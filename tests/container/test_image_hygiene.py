"""What the built images carry: no credentials or build-time secrets in any layer's
command, in the image config or on the image filesystem, and no build inputs left behind."""

from __future__ import annotations

import json
import re

import pytest
from inferpipe_testing.containers import docker

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
