"""The shadow mirror's comparison and its bounded queue, without containers."""

from __future__ import annotations

import threading
from pathlib import Path

from inferpipe.pipeline_spec.local.shadow import ShadowMirror, answers_agree, read_report


def test_answers_agree_on_bytes_or_numbers_within_tolerance() -> None:
    assert answers_agree(b"1.5,2\n", b"1.5,2")
    assert answers_agree(b"0.30000000000000004\n", b"0.3\n")
    assert answers_agree(
        b'{"predictions": [{"score": 0.1}]}', b'{"predictions": [{"score": 0.1000000001}]}'
    )
    assert not answers_agree(b"0.3\n", b"0.31\n")
    assert not answers_agree(b"1,2\n", b"1,2,3\n")
    assert not answers_agree(b"cat\n", b"dog\n")


def test_a_shadow_that_cannot_keep_up_drops_copies_and_never_blocks(tmp_path: Path) -> None:
    release, entered = threading.Event(), threading.Event()

    def stuck(body: bytes, headers: object) -> tuple[int, str, bytes]:
        entered.set()
        release.wait(10)
        return 200, "text/csv", body

    mirror = ShadowMirror("A", "S", 1.0, stuck, tmp_path / "shadow.jsonl")
    mirror.start()
    mirror.offer(b"first\n", {}, 200, "text/csv", b"first\n", 0.001)
    assert entered.wait(10)
    for number in range(299):  # the queue holds 256; the first one is being run
        mirror.offer(f"{number}\n".encode(), {}, 200, "text/csv", f"{number}\n".encode(), 0.001)
    assert mirror.dropped == 299 - 256
    release.set()
    mirror.stop(seconds=10)
    report = read_report(tmp_path / "shadow.jsonl")
    assert report.pairs == 257 and report.agreeing == 257 and report.dropped == mirror.dropped


def test_sampling_follows_the_fraction(tmp_path: Path) -> None:
    seen: list[bytes] = []
    mirror = ShadowMirror(
        "A", "S", 0.25, lambda b, h: (seen.append(b), (200, "", b))[1], tmp_path / "s.jsonl"
    )
    mirror.start()
    for number in range(2000):
        mirror.offer(b"%d" % number, {}, 200, "", b"", 0.0)
    mirror.stop(seconds=10)
    assert 400 <= len(seen) + mirror.dropped <= 600  # a full queue drops, counted
