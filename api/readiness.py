"""What a failing /readyz writes to the log: an outage once, then a count, then its end.

A load balancer or orchestrator asks /readyz (an uptime monitor /healthz) every few seconds;
both probe the one database, so they share one outage. Logging each failed probe as
an ERROR buried a database outage's first, informative line under thousands of copies of it.
So the first failure is logged in full (by api/errors.py, as any 503 is), later ones are only
counted, with one line at most every `repeat_every_s` saying how many went unlogged, and the
first probe that succeeds again says, at INFO, that the service is ready and for how long it
was not. Each unlogged probe's 503 still carries an `error_id`: the periodic line (and the
ready-again line) names the latest of them, so the id a caller quotes from a 503 is either in a
line of its own or the latest named in the next one; an earlier unlogged probe's id is in none.

Probes are only a sample of the outage: with no probe for longer than `repeat_every_s` (the
monitor was off, or the process idle) nothing is known about what happened in between, so a
failure after such a silence starts a new outage, logged in full as a first failure, rather than
"still unavailable after" a week nobody watched; the old outage is taken as over at its last
failed probe, and a line says so. One `ReadinessLog` per app (`app.state.readiness`), so per
process.
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
    not logged, the latest with `latest_error_id` (None when there were none), and the outage
    has lasted `outage_s` seconds."""

    probes: int
    outage_s: float
    latest_error_id: str | None = None


@dataclass
class _Outage:
    started_s: float  # on the monotonic clock
    last_line_s: float
    last_failure_s: float
    unlogged: int = 0
    latest_unlogged_id: str | None = None


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

    def failed(self, error_id: str) -> Unlogged | bool:
        """Note a failed probe whose 503 carries `error_id`. True: the first of an outage (or
        the first after a silence longer than `repeat_every_s`), to be logged in full; an
        `Unlogged`: time for a line saying the outage goes on; False: say nothing."""
        with self._lock:
            now = self._clock()
            unseen = self._end_unseen(now)
            if self._outage is None:
                self._outage = _Outage(started_s=now, last_line_s=now, last_failure_s=now)
                outcome: Unlogged | bool = True
            else:
                outcome = self._counted(self._outage, now, error_id)
        if unseen is not None:
            _log_unseen_end(unseen, now)
        return outcome

    def _counted(self, outage: _Outage, now: float, error_id: str) -> Unlogged | bool:
        """A failure within an outage: counted (its `error_id` kept for the next line), or
        the periodic line's due."""
        outage.last_failure_s = now
        if now - outage.last_line_s < self._repeat_every_s:
            outage.unlogged += 1
            outage.latest_unlogged_id = error_id
            return False
        reminder = Unlogged(outage.unlogged, now - outage.started_s, outage.latest_unlogged_id)
        outage.last_line_s, outage.unlogged, outage.latest_unlogged_id = now, 0, None
        return reminder

    def _end_unseen(self, now: float) -> _Outage | None:
        """The outage, ended, if no probe came for longer than `repeat_every_s` since its last
        failure: whether it went on in between is not known, so it is not carried on."""
        outage = self._outage
        if outage is None or now - outage.last_failure_s <= self._repeat_every_s:
            return None
        self._outage = None
        return outage

    def succeeded(self) -> None:
        """Note a probe that succeeded; if it ends an outage, say so once, at INFO."""
        with self._lock:
            now = self._clock()
            unseen = self._end_unseen(now)
            outage, self._outage = self._outage, None
        if unseen is not None:
            _log_unseen_end(unseen, now)
        if outage is not None:
            log.info(
                "ready again: the database answers the probes (/readyz, /healthz) after %s "
                "not ready (%s)",
                duration_text(now - outage.started_s),
                unlogged_text(outage.unlogged, outage.latest_unlogged_id),
            )


def _log_unseen_end(outage: _Outage, now: float) -> None:
    """An outage whose end no probe saw: its last failed probe was so long ago that the next
    probe cannot say it lasted until now."""
    log.info(
        "no /readyz or /healthz probe for %s after the last failed one: that outage is "
        "taken as over then, after %s not ready, its end unseen (%s)",
        duration_text(now - outage.last_failure_s),
        duration_text(outage.last_failure_s - outage.started_s),
        unlogged_text(outage.unlogged, outage.latest_unlogged_id),
    )


def unlogged_text(probes: int, latest_error_id: str | None = None) -> str:
    """'1 failed probe since the last line was not logged, error 0a1b2c3d4e5f', or 'N failed
    probes ... were not logged, the latest error ...': the latest unlogged probe's `error_id`,
    which its 503 gave a caller, is named so that a caller quoting it finds a line."""
    if probes == 1:
        said = "1 failed probe since the last line was not logged"
    else:
        said = f"{probes} failed probes since the last line were not logged"
    if latest_error_id is None or probes == 0:
        return said
    return (
        f"{said}, error {latest_error_id}"
        if probes == 1
        else f"{said}, the latest error {latest_error_id}"
    )


def duration_text(seconds: float) -> str:
    """'42 s', '7 min 5 s', '2 h 3 min': how long an outage lasted, to the second."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
