"""scripts/lock_wheels.py: the requirements build.sh hands to pip's hash-checking mode,
and a lock that stays in step with the pins it was made from."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from inferpipe_testing.containers import REPO_ROOT
from inferpipe_testing.local import import_by_path

lock_wheels = import_by_path(REPO_ROOT / "scripts" / "lock_wheels.py", "lock_wheels")
requirements_for = import_by_path(REPO_ROOT / "scripts" / "requirements_for.py", "requirements_for")


def test_each_wheel_is_pinned_to_its_locked_hashes_and_the_own_wheel_to_its_digest(
    tmp_path: Path,
) -> None:
    locked = lock_wheels.read_lock()
    (tmp_path / "Flask-3.1.3-py3-none-any.whl").write_bytes(b"x")
    (tmp_path / "scikit_learn-1.9.1-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"x")
    own = tmp_path / "inferpipe-0.1.0-py3-none-any.whl"
    own.write_bytes(b"our wheel")
    lines = lock_wheels.hashed_requirements(tmp_path, own)
    assert lines[0] == f"flask==3.1.3 --hash=sha256:{next(iter(locked['flask==3.1.3']))}"
    assert lines[1] == f"inferpipe==0.1.0 --hash=sha256:{hashlib.sha256(b'our wheel').hexdigest()}"
    sklearn_hashes = sorted(locked["scikit-learn==1.9.1"])
    assert len(sklearn_hashes) == 2  # amd64 and arm64 wheels
    assert lines[2] == "scikit-learn==1.9.1" + "".join(
        f" --hash=sha256:{h}" for h in sklearn_hashes
    )


def test_a_wheel_the_lock_does_not_know_stops_the_build_naming_it(tmp_path: Path) -> None:
    (tmp_path / "six-1.17.0-py2.py3-none-any.whl").write_bytes(b"x")
    (tmp_path / "sneaky_pkg-0.1-py3-none-any.whl").write_bytes(b"x")
    with pytest.raises(SystemExit) as stopped:
        lock_wheels.hashed_requirements(tmp_path, None)
    assert "sneaky-pkg==0.1" in str(stopped.value)
    assert "scripts/lock_wheels.py" in str(stopped.value)


def test_the_lock_has_every_image_pin_at_the_version_pyproject_and_constraints_give() -> None:
    locked = lock_wheels.read_lock()
    versions = {pin.split("==")[0]: pin.split("==")[1] for pin in locked}
    direct = requirements_for.requirements_for(lock_wheels.IMAGE_EXTRAS.split(","), None)
    for requirement in direct:
        name, version = requirement.split("==")
        assert f"{lock_wheels.normalized(name)}=={version}" in locked, requirement
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            if lock_wheels.normalized(name) in versions:
                assert versions[lock_wheels.normalized(name)] == version, (
                    f"{line}: wheels.lock has {versions[lock_wheels.normalized(name)]}; "
                    "run scripts/lock_wheels.py"
                )


def test_the_lock_file_round_trips(tmp_path: Path) -> None:
    locked = {"a==1": {"ff", "00"}, "b-c==2.0": {"11"}}
    lock_wheels.write_lock(locked, tmp_path / "wheels.lock")
    assert lock_wheels.read_lock(tmp_path / "wheels.lock") == locked
    assert (tmp_path / "wheels.lock").read_text().splitlines()[
        -2
    ] == "a==1 --hash=sha256:00 --hash=sha256:ff"
