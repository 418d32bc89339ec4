"""The database query /readyz and /healthz make, given a bound of its own (and /metrics' own
query, bounded the same way).

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
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class ProbeTimedOut(Exception):
    """The database took a connection or a query and gave no answer within the probe's bound."""


class BoundedQuery(Generic[T]):
    """Runs `query` in a session of the database, waiting at most `timeout_s` seconds for its
    answer, with one query in flight at a time (callers meanwhile wait for that one). `said`
    names the query in the ProbeTimedOut message; `thread` names the thread it runs on."""

    def __init__(
        self, timeout_s: float, query: Callable[[Session], T], said: str, thread: str
    ) -> None:
        self._timeout_s = timeout_s
        self._query = query
        self._said = said
        self._thread = thread
        self._lock = threading.Lock()
        self._in_flight: Future[T] | None = None

    async def answer(self, factory: sessionmaker[Session]) -> T:
        """The query's answer once the database behind `factory` has given it; ProbeTimedOut
        when it has not within the bound; the driver's own error (a 503 too) when it failed."""
        answer = asyncio.wrap_future(self._ask(factory))
        try:
            # shielded: this caller giving up must not cancel the query others wait for
            return await asyncio.wait_for(asyncio.shield(answer), self._timeout_s)
        except TimeoutError:
            # its answer, when the hang ends, is read by nobody: not an unretrieved error
            answer.add_done_callback(lambda done: done.cancelled() or done.exception())
            raise ProbeTimedOut(
                f"no answer to {self._said} within {self._timeout_s:g} s "
                "(HOMEWARD_READYZ_TIMEOUT_S): it hangs rather than refuses"
            ) from None

    def _ask(self, factory: sessionmaker[Session]) -> Future[T]:
        """The query in flight, or a new one through `factory` if none is."""
        with self._lock:
            if self._in_flight is None or self._in_flight.done():
                self._in_flight = Future()
                threading.Thread(
                    target=self._run,
                    args=(factory, self._in_flight),
                    name=self._thread,
                    daemon=True,
                ).start()
            return self._in_flight

    def _run(self, factory: sessionmaker[Session], answer: Future[T]) -> None:
        try:
            with factory() as session:
                answer.set_result(self._query(session))
        except BaseException as exc:  # handed to the callers waiting, who raise it
            answer.set_exception(exc)


class DatabaseProbe(BoundedQuery[str]):
    """Asks the database `SELECT 1`, waiting at most `timeout_s` seconds for the answer, which
    is the database's backend name ('postgresql', 'sqlite'). One per app."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout_s, _backend_name, "SELECT 1", "homeward-db-probe")

    async def backend(self, factory: sessionmaker[Session]) -> str:
        """The backend's name once the database behind `factory` has answered; ProbeTimedOut
        when it has not within the bound; the driver's own error (a 503 too) when it failed."""
        return await self.answer(factory)


def _backend_name(session: Session) -> str:
    session.execute(text("SELECT 1"))
    return session.get_bind().dialect.name
