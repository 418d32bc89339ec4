"""A plan with well more delayed days in hospital than a simple allocation says why: it
minimises weighted waiting over every service, at the config's weights (on the demo 5,102 DTOC
days against 2,907 for hours in proportion to demand, unremarked until now)."""

from __future__ import annotations

import pandas as pd

from optimise.baselines import BASELINE_COLUMNS, dtoc_trade_warning
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def _baselines(plan: float, proportional: float, carried: float) -> pd.DataFrame:
    rows = [
        ("plan", 100.0, plan, 0.0, 0.0, 0.0),
        ("proportional_to_demand", 123.0, proportional, 0.0, 0.0, 23.0),
        ("carried_forward", 127.0, carried, 0.0, 0.0, 27.3),
    ]
    return pd.DataFrame(rows, columns=BASELINE_COLUMNS)


def test_a_baseline_with_far_fewer_hospital_days_is_named_with_the_weights() -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    text = dtoc_trade_warning(inputs, _baselines(5101.7, 2907.4, 5219.0))
    assert text is not None
    assert text.startswith(
        "the plan has 5,102 delayed days in hospital (DTOC), more than the proportional to "
        "demand allocation's 2,907, which has 23% more weighted waiting"
    )
    # rich_config: reablement waits at 1.5 plus 2 in hospital, domcare 1 plus 1
    assert "(reablement 1.5 + 2, domcare 1 + 1)" in text
    assert text.endswith("raise hospital_delay_weight to value hospital days more")


def test_no_word_when_no_baseline_has_well_fewer() -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    assert dtoc_trade_warning(inputs, _baselines(5000.0, 4600.0, 5200.0)) is None
    assert dtoc_trade_warning(inputs, pd.DataFrame(columns=BASELINE_COLUMNS)) is None
