"""A series delete holds the pipeline lock while it deletes, its lease renewed as a run's and
a purge's are: a delete of a whole country's series could outlast its 60-second lease, after
which a pipeline run could take the lock and read the histories being deleted."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.routes import series as series_routes
from homeward import repository
from homeward.pipeline import LOCK_NAME
from homeward.recovery import lock_holder
from models import LockRow


def test_a_delete_longer_than_its_lease_keeps_the_lock_until_it_ends(
    either_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = timedelta(seconds=1)
    monkeypatch.setattr(series_routes, "DELETE_LEASE", lease)
    with series_routes._deleting(either_factory):
        time.sleep(3 * lease.total_seconds())  # three leases: unrenewed, it had lapsed
        with either_factory() as other:
            lock = other.get(LockRow, LOCK_NAME)
            assert lock is not None and lock.holder == f"delete-series:{lock_holder()}"
        assert not repository.acquire_lock(either_factory, LOCK_NAME, "a-pipeline-run", lease)
    with either_factory() as session:
        assert session.get(LockRow, LOCK_NAME) is None  # given back once it ended
