"""What a failing /readyz writes to the log: an outage once, then a count, then its end.

A load balancer or orchestrator asks /readyz every few seconds. Logging each failed probe as
an ERROR buried a database outage's first, informative line under thousands of copies of it.
So the first failure is logged in full (by api/errors.py, as any 503 is), later ones are only
counted, with one line at most every `repeat_every_s` saying how many went unlogged, and the
first probe that succeeds again says, at INFO, that the service is ready and for how long it
was not. One `ReadinessLog` per app (`app.state.readiness`), so per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

REPEAT_EVERY_S = 300.0  # at most one line per 5 minutes while the outage lasts


@dataclass(frozen=True)
class Unlogged:
    """A reminder that the outage goes on: `probes` failed probes since the last line were
    not logged, and the outage has lasted `outage_s` seconds."""

    probes: int
    outage_s: float


@dataclass
class _Outage:
    started_s: float  # on the monotonic clock
    last_line_s: float
    unlogged: int = 0


class ReadinessLog:
    """The state of one process's /readyz between probes. Probes run in worker threads, so
    every change holds a lock. `clock` gives monotonic seconds (tests pass their own)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        repeat_every_s: float = REPEAT_EVERY_S,
    ) -> None:
        self._clock = clock
        self._repeat_every_s = repeat_every_s
        self._lock = threading.Lock()
        self._outage: _Outage | None = None

    def failed(self) -> Unlogged | bool:
        """Note a failed probe. True: the first of an outage, to be logged in full; an
        `Unlogged`: time for a line saying the outage goes on; False: say nothing."""
        with self._lock:
            now = self._clock()
            if self._outage is None:
                self._outage = _Outage(started_s=now, last_line_s=now)
                return True
            outage = self._outage
            if now - outage.last_line_s < self._repeat_every_s:
                outage.unlogged += 1
                return False
            reminder = Unlogged(probes=outage.unlogged, outage_s=now - outage.started_s)
            outage.last_line_s, outage.unlogged = now, 0
            return reminder

    def succeeded(self) -> None:
        """Note a probe that succeeded; if it ends an outage, say so once, at INFO."""
        with self._lock:
            outage, self._outage = self._outage, None
            now = self._clock()
        if outage is not None:
            log.info(
                "ready again: the database answers /readyz after %s not ready (%s)",
                duration_text(now - outage.started_s),
                unlogged_text(outage.unlogged),
            )


def unlogged_text(probes: int) -> str:
    """'1 failed probe since the last line was not logged', or 'N failed probes ... were'."""
    if probes == 1:
        return "1 failed probe since the last line was not logged"
    return f"{probes} failed probes since the last line were not logged"


def duration_text(seconds: float) -> str:
    """'42 s', '7 min 5 s', '2 h 3 min': how long an outage lasted, to the second."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
