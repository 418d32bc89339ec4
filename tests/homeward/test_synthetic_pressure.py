"""A config of a council's own referrals whose winter.pressure_series is still the synthetic
demo's (a config begun from the demo's keeps it) is warned of when stored and in its plans:
its winters were raised by invented hospital pressure with nothing said (README walk-through).
The same series uploaded as the council's own is no warning."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import planning, repository
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction
from models import PlanRow
from tests.homeward.test_unsolved_plans import _store_config, _store_referrals
from tests.optimise.factory import hand_config

PRESSURE = "winter/emergency_admissions/somewhere"


@pytest.mark.parametrize(
    ("source", "warned"), [(repository.SYNTHETIC_DEMO_SOURCE, True), ("trust.csv", False)]
)
def test_a_synthetic_pressure_series_beside_ones_own_referrals_is_warned_of(
    factory: sessionmaker[Session], sqlite_settings: Settings, source: str, warned: bool
) -> None:
    winter = {"pressure_series": PRESSURE, "pressure_level": "mean", "months": [12, 1, 2]}
    body = hand_config(winter=winter)
    _store_referrals(factory, body)  # the council's own (source "test")
    months = pd.date_range("2022-01-01", periods=40, freq="MS")
    y = [1000.0 + 150.0 * (m.month in (12, 1, 2)) for m in months]
    pressure = pd.DataFrame({"unique_id": PRESSURE, "ds": months, "y": y})
    with transaction(factory) as session:
        repository.store_observations(session, pressure, source, "pressure")
    _store_config(factory, body)
    said = (
        f"winter.pressure_series {PRESSURE!r} is the synthetic demo's invented series, while "
        "the referrals planned are your own (referrals/"
    )
    with factory() as session:  # as POST /v1/configs says, before any forecast
        stored = planning.config_warnings(session, body)
    assert any(w.startswith(said) for w in stored) is warned, stored
    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert outcome.plan_id is not None
    with factory() as session:
        plan = session.get_one(PlanRow, outcome.plan_id)
        planned = plan.result["warnings"]
        assert any(w.startswith(said) for w in planned) is warned, planned
        assert any(w.startswith(said) for w in planning.config_warnings(session, body)) is warned
