"""Read a demand CSV (service, district, ds, cases) for `homeward plan --demand`, validated once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from homeward.errors import Problem, ValidationFailed

REQUIRED = ("service", "district", "ds", "cases")


def read_demand_csv(path: Path) -> pd.DataFrame:
    """Parse and validate; rows are numbered as in the file (header is line 1)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        expected = "a CSV file with the header " + ",".join(REQUIRED)
        raise ValidationFailed((Problem(None, None, expected, str(exc)),), str(path)) from exc
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValidationFailed(
            tuple(Problem(1, c, "a column of that name", "no such column") for c in missing),
            str(path),
        )
    ds = pd.to_datetime(raw["ds"], format="%Y-%m-%d", errors="coerce")
    cases = pd.to_numeric(raw["cases"], errors="coerce")
    ds_text, cases_text = raw["ds"].tolist(), raw["cases"].tolist()
    problems = [
        Problem(int(i) + 2, "ds", "a date YYYY-MM-DD", str(ds_text[i]))
        for i in np.flatnonzero(ds.isna())
    ]
    bad_cases = cases.isna() | ~np.isfinite(cases) | (cases < 0)
    problems += [
        Problem(int(i) + 2, "cases", "a number >= 0", str(cases_text[i]))
        for i in np.flatnonzero(bad_cases)
    ]
    if problems:
        raise ValidationFailed(tuple(problems), str(path))
    return pd.DataFrame(
        {
            "service": raw["service"].str.strip(),
            "district": raw["district"].str.strip(),
            "ds": ds,
            "cases": cases.astype(float),
        }
    )
