"""A plan summary's `referral_history_last_ds` is where the history of the series the plan
read ends: a referral series stored beside them that the plan does not read (a monthly test
series ending years before) had set it 21 months early, as the newest observation before
the earliest forecast period of any referral series in the run."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeward import plan_summary, repository
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction
from models import PlanRow
from tests.homeward.test_unsolved_plans import _store_config, _store_referrals
from tests.optimise.factory import hand_config


def test_the_history_end_is_of_the_series_the_plan_read(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    body = hand_config()
    _store_referrals(factory, body)  # weekly, 120 weeks from 2023-01-02
    months = pd.date_range("2021-01-01", periods=30, freq="MS")
    stale = pd.DataFrame({"unique_id": "referrals/ot/elsewhere", "ds": months, "y": 5.0})
    with transaction(factory) as session:
        repository.store_observations(session, stale, "test", "stale")
    _store_config(factory, body)
    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert outcome.plan_id is not None
    with factory() as session:
        plan = session.scalars(select(PlanRow).where(PlanRow.id == outcome.plan_id)).one()
        rows = {r["figure"]: r["value"] for r in plan_summary.summary_rows(session, plan)}
    last_week = pd.Timestamp("2023-01-02") + pd.Timedelta(weeks=119)
    assert rows["referral_history_last_ds"] == f"{last_week:%Y-%m-%d}"
    assert pd.Timestamp(rows["first_ds"]) == last_week + pd.Timedelta(weeks=1)
