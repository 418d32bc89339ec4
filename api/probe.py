"""The database query /readyz and /healthz make, given a bound of its own.

A database that refuses connections fails the query at once; one that hangs (a frozen server, a
partition, a failover in progress) held the probe until the hang ended, 80 s in an operator's
test, so a load balancer kept sending requests to a replica that could not answer them. Here
the probe waits `timeout_s` (HOMEWARD_READYZ_TIMEOUT_S) and is then a 503 naming the wait.

The query itself cannot be interrupted from Python, so it runs on a thread of its own, a daemon
one, so that a query still hung when the service stops does not hold the process open. Only one
query is in flight at a time: probes that arrive while one is hung wait for that one, so a
monitor probing every second does not pile up a hung thread and a pooled connection a probe.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker


class ProbeTimedOut(Exception):
    """The database took a connection or a query and gave no answer within the probe's bound."""


class DatabaseProbe:
    """Asks the database `SELECT 1`, waiting at most `timeout_s` seconds for the answer, which
    is the database's backend name ('postgresql', 'sqlite'). One per app."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._in_flight: Future[str] | None = None

    async def backend(self, factory: sessionmaker[Session]) -> str:
        """The backend's name once the database behind `factory` has answered; ProbeTimedOut
        when it has not within the bound; the driver's own error (a 503 too) when it failed."""
        answer = asyncio.wrap_future(self._ask(factory))
        try:
            # shielded: this probe giving up must not cancel the query other probes wait for
            return await asyncio.wait_for(asyncio.shield(answer), self._timeout_s)
        except TimeoutError:
            # its answer, when the hang ends, is read by nobody: not an unretrieved error
            answer.add_done_callback(lambda done: done.cancelled() or done.exception())
            raise ProbeTimedOut(
                f"no answer to SELECT 1 within {self._timeout_s:g} s (HOMEWARD_READYZ_TIMEOUT_S):"
                " it hangs rather than refuses"
            ) from None

    def _ask(self, factory: sessionmaker[Session]) -> Future[str]:
        """The query in flight, or a new one through `factory` if none is."""
        with self._lock:
            if self._in_flight is None or self._in_flight.done():
                self._in_flight = Future()
                threading.Thread(
                    target=self._query,
                    args=(factory, self._in_flight),
                    name="homeward-db-probe",
                    daemon=True,
                ).start()
            return self._in_flight

    @staticmethod
    def _query(factory: sessionmaker[Session], answer: Future[str]) -> None:
        try:
            with factory() as session:
                session.execute(text("SELECT 1"))
                answer.set_result(session.get_bind().dialect.name)
        except BaseException as exc:  # handed to the probes waiting, who raise it
            answer.set_exception(exc)
