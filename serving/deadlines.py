"""SAGEMAKER_MODEL_SERVER_TIMEOUT for stage calls that run in the request's own thread.

Handing each call to a pool thread and waiting on its future with a timeout costs two
thread hand-offs per request (~0.05-0.1 ms here, a third of a one-row stage). Instead
the request thread calls the stage itself, and one watcher thread per process looks at
the calls in flight every `TICK_SECONDS`: a call past its deadline gets its 504 written
straight to the client's socket, which is then shut down, and the worker is recycled
(a stuck thread cannot be stopped from outside). When the call does come back, its
answer goes nowhere. Without a socket (a test client) the 504 is answered when the
call returns late.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: How often the watcher looks at the calls in flight (so a 504 comes at most this late).
TICK_SECONDS = 0.1


class AnsweredLate(Exception):
    """The call ran past its deadline and the watcher has answered its client."""


@dataclass(eq=False)
class _Call:
    deadline: float
    sock: socket.socket | None
    #: Writes the 504 to the client and does what else a timeout needs (called once).
    expire: Callable[[socket.socket], None]
    started: float = field(default_factory=time.monotonic)


class Deadlines:
    """Calls in flight in this process and the thread that watches their deadlines."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._running: dict[int, _Call] = {}
        self._watcher_pid = 0
        self._lock = threading.Lock()

    def call(
        self,
        run: Callable[[], T],
        sock: socket.socket | None,
        expire: Callable[[socket.socket], None],
    ) -> T:
        """`run()` in this thread. Raises AnsweredLate when the watcher answered the
        client meanwhile, TimeoutError when it returned past the deadline unanswered."""
        if sock is not None:
            self._ensure_watcher()
        entry = _Call(time.monotonic() + self.seconds, sock, expire)
        key = id(entry)
        self._running[key] = entry
        try:
            result = run()
        finally:
            # dict.pop is atomic: the watcher and this thread cannot both claim the call.
            mine = self._running.pop(key, None) is not None
        if not mine:
            raise AnsweredLate
        if time.monotonic() > entry.deadline:
            raise TimeoutError
        return result

    def _ensure_watcher(self) -> None:
        """One watcher per process, started after fork (a forked child has no threads)."""
        if self._watcher_pid == os.getpid():
            return
        with self._lock:
            if self._watcher_pid != os.getpid():
                self._running.clear()  # calls of the parent process, if any
                watcher = threading.Thread(target=self._watch, name="inferpipe-deadlines")
                watcher.daemon = True
                watcher.start()
                self._watcher_pid = os.getpid()

    def _watch(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            if not self._running:
                continue
            now = time.monotonic()
            for key, entry in list(self._running.items()):
                sock = entry.sock
                if sock is None or entry.deadline > now:
                    continue  # not due, or no client to answer here (answered on return)
                if self._running.pop(key, None) is not None:
                    self._expire(entry, sock)

    @staticmethod
    def _expire(entry: _Call, sock: socket.socket) -> None:
        try:
            entry.expire(sock)
        except Exception:
            logger.exception("answering a timed-out request failed")
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
