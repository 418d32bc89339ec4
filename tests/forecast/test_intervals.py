"""Conformal calibration: widths learnt from pooled, normalised backtest errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import run_forecasts
from forecast.assemble import finish
from forecast.backtest import Window, scale_ratio
from forecast.intervals import calibrated, clipped, fit_calibration
from forecast.models.base import Prediction, gaussian_prediction
from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.settings import ForecastSettings


def _outcome(errors: np.ndarray, sd: float) -> SeriesOutcome:
    """One model whose own intervals assume `sd`, while its backtest errors are `errors`."""
    mean = np.zeros(len(errors))
    pred = gaussian_prediction(mean, np.full(len(errors), sd), (80, 95))
    win = Window(20, errors, (1.0, 1.0))
    model = ModelOutcome("m", (pred,), pred)
    ds = pd.date_range("2020-01-01", periods=len(errors), freq="MS")
    return SeriesOutcome("s", ds, False, (win,), {"m": model})


def test_overconfident_model_gets_wider_intervals_with_nominal_coverage() -> None:
    rng = np.random.default_rng(1)
    outcomes = [_outcome(rng.normal(0.0, 3.0, 12), sd=1.0) for _ in range(200)]
    calib = fit_calibration(outcomes, (80, 95))
    # true errors are 3x the model's sd: widths ~ 3 * 1.28 and 3 * 1.96
    widths80, widths95 = calib.widths["m"][80], calib.widths["m"][95]
    assert len(widths80) == 12  # 200 errors per step: each step has its own width
    assert np.all(np.abs(widths80 - 3 * 1.2816) < 0.8)
    assert abs(np.mean(widths95) - 3 * 1.96) < 0.6
    fresh = rng.normal(0.0, 3.0, (2000, 12))
    pred = calibrated(
        gaussian_prediction(np.zeros(12), np.ones(12), (80, 95)), calib.widths["m"], (80, 95)
    )
    lo, hi = pred.interval(80)
    assert 0.76 < np.mean((fresh >= lo) & (fresh <= hi)) < 0.84


def test_few_series_share_one_width_across_steps() -> None:
    rng = np.random.default_rng(2)
    calib = fit_calibration([_outcome(rng.normal(0.0, 1.0, 12), sd=1.0) for _ in range(3)], (80,))
    assert np.ptp(calib.widths["m"][80]) == 0.0


def test_too_few_errors_leave_intervals_alone() -> None:
    calib = fit_calibration([_outcome(np.array([5.0, -5.0]), sd=1.0)], (80,))
    assert "m" not in calib.widths
    pred = gaussian_prediction(np.zeros(2), np.ones(2), (80,))
    assert calibrated(pred, calib.widths.get("m"), (80,)) is pred


def test_scale_ratio_is_recent_over_whole_window_noise() -> None:
    # monthly (season 12): alternating +-2 for three years, then +-0.5 for the last year
    y = np.concatenate([np.tile([0.0, 2.0], 18), np.tile([0.0, 0.5], 6)])
    # |second differences|: 4 for three years, then the join (4, 2.5), then ten of 1; the last
    # half season (6) are all 1, and the whole window's median is 4
    assert scale_ratio(y, 12) == pytest.approx(1.0 / 4.0)
    assert scale_ratio(np.full(30, 5.0), 12) == 1.0  # flat: cannot be measured


def test_scale_ratio_ignores_a_trend_and_an_earlier_level_shift() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 1.0, 60)
    steady = scale_ratio(100.0 + noise, 12)
    # the last year falls by 5 a month: a trend, not noise
    trend = np.concatenate([np.zeros(48), -5.0 * np.arange(1, 13)])
    assert scale_ratio(100.0 + noise + trend, 12) == pytest.approx(steady, rel=0.2)
    # and the level dropped by 40 (40 noise sds) a year ago: the series is not noisier now
    shifted = trend.copy()
    shifted[48:] -= 40.0
    assert scale_ratio(100.0 + noise + shifted, 12) == pytest.approx(steady, rel=0.2)

    # whereas mean |one-step change| over the last two seasons (the measure it replaced) is not
    # robust: it rises by more than half
    def old(y: np.ndarray) -> float:
        steps = np.abs(np.diff(y))
        return float(np.mean(steps[-24:]) / np.mean(steps))

    assert old(100.0 + noise + shifted) > 1.5 * old(100.0 + noise)


def test_calmer_series_gets_proportionally_narrower_intervals() -> None:
    rng = np.random.default_rng(3)
    calib = fit_calibration([_outcome(rng.normal(0.0, 1.0, 12), sd=1.0) for _ in range(50)], (80,))
    pred = gaussian_prediction(np.zeros(12), np.ones(12), (80,))
    lo1, hi1 = calibrated(pred, calib.widths["m"], (80,)).interval(80)
    lo2, hi2 = calibrated(pred, calib.widths["m"], (80,), scale_ratio=0.5).interval(80)
    assert np.allclose(hi2 - lo2, 0.5 * (hi1 - lo1))


def _folds_outcome(folds: list[np.ndarray], mean: float = 0.0, sd: float = 1.0) -> SeriesOutcome:
    """One model `m` backtested on `folds` (oldest first, each the errors of its window around
    a zero forecast with sd 1); its final forecast is `mean` with sd `sd`."""
    steps = len(folds[0])
    pred = gaussian_prediction(np.zeros(steps), np.ones(steps), (80, 95))
    wins = tuple(Window(20 + steps * i, e, (1.0, 1.0)) for i, e in enumerate(folds))
    final = gaussian_prediction(np.full(steps, mean), np.full(steps, sd), (80, 95))
    model = ModelOutcome("m", (pred,) * len(folds), final)
    ds = pd.date_range("2020-01-01", periods=steps, freq="MS")
    return SeriesOutcome("s", ds, False, wins, {"m": model})


_SETTINGS = ForecastSettings(horizon=6, levels=(80, 95), models=("m",))


def test_stored_coverage_is_out_of_sample_fold_by_fold() -> None:
    """The latest fold's errors are three times the older fold's. Intervals calibrated on both
    cover ~80% of the pooled errors by construction; the latest fold's intervals calibrated on
    the older fold alone (width ~1.28) hold only P(|z| < 1.28 / 3) ~ 0.33 of it, and the older
    fold's, calibrated on the latest (width ~3 * 1.28), nearly all: a mean near 0.67."""
    rng = np.random.default_rng(4)
    outcomes = [
        _folds_outcome([rng.normal(0.0, 1.0, 6), rng.normal(0.0, 3.0, 6)]) for _ in range(100)
    ]
    calib = fit_calibration(outcomes, (80, 95))

    def covered(widths: dict[int, np.ndarray], fold: int) -> float:
        lo, hi = calibrated(outcomes[0].models["m"].folds[0], widths, (80, 95)).interval(80)
        errors = np.array([o.windows[fold].actual for o in outcomes])
        return float(np.mean((errors >= lo) & (errors <= hi)))

    in_sample = (covered(calib.widths["m"], 0) + covered(calib.widths["m"], 1)) / 2
    assert in_sample == pytest.approx(0.80, abs=0.03)
    assert covered(calib.held_out[0]["m"], 1) < 0.45  # the latest fold, 0 from the end
    assert covered(calib.held_out[1]["m"], 0) > 0.95
    stored = [finish(o, calib, {}, _SETTINGS).metrics["coverage_80"][0] for o in outcomes]
    assert np.mean(stored) == pytest.approx(0.67, abs=0.05)


def test_coverage_is_missing_where_a_fold_leaves_too_few_errors() -> None:
    """12 errors calibrate the model, but either fold alone has 6 (< MIN_ERRORS): no
    out-of-sample coverage (NaN, null in the API). A model with too few errors to calibrate at
    all keeps its own intervals, never fitted to these errors, and their coverage."""
    rng = np.random.default_rng(5)
    calibrated_run = [_folds_outcome([rng.normal(0.0, 1.0, 6), rng.normal(0.0, 1.0, 6)])]
    calib = fit_calibration(calibrated_run, (80, 95))
    assert "m" in calib.widths and "m" not in calib.held_out[0]
    row = finish(calibrated_run[0], calib, {}, _SETTINGS).metrics.iloc[0]
    assert np.isnan(row["coverage_80"]) and np.isnan(row["coverage_95"])
    assert np.isnan(row["pinball"])  # scored with the same widths as coverage, so none either
    assert row["folds"] == 2 and np.isfinite(row["mase"])
    tiny = _folds_outcome([np.array([0.5, 3.0, 0.5]), np.array([0.5, 0.5, 0.5])])
    own = finish(tiny, fit_calibration([tiny], (80, 95)), {}, _SETTINGS).metrics.iloc[0]
    assert own["coverage_80"] == pytest.approx((2 / 3 + 1.0) / 2)  # |3.0| > 1.28
    assert np.isfinite(own["pinball"])


def test_stored_pinball_is_out_of_sample_fold_by_fold() -> None:
    """Two series, each with an older fold missing by +1 and a latest one by +3 on every step
    (12 errors a fold, sd 1, MASE scale 1). Calibrated on both folds, the 80% width is 3 (the
    pooled 80% quantile of twelve 1s and twelve 3s); the older fold alone gives 1, the latest
    alone 3. Pinball of actual y in [lo, hi] at the 10% and 90% quantiles:
    in sample, y = 1 in [-3, 3]: (0.1 x 4 + 0.1 x 2) / 2 = 0.3; y = 3 in [-3, 3]: (0.1 x 6 +
    0) / 2 = 0.3; a mean of 0.3. Out of sample the older fold is scored with the latest's
    width, y = 1 in [-3, 3]: 0.3, and the latest with the older's, y = 3 in [-1, 1]: (0.1 x 4 +
    0.9 x 2) / 2 = 1.1; a mean of 0.7, and coverage (1 + 0) / 2."""
    levels = (80,)
    outcomes = [_folds_outcome([np.full(6, 1.0), np.full(6, 3.0)]) for _ in range(2)]
    calib = fit_calibration(outcomes, levels)
    assert np.allclose(calib.widths["m"][80], 3.0)
    settings = ForecastSettings(horizon=6, levels=levels, models=("m",))
    row = finish(outcomes[0], calib, {}, settings).metrics.iloc[0]
    assert row["pinball"] == pytest.approx(0.7)
    assert row["coverage_80"] == pytest.approx(0.5)
    assert row["mase"] == pytest.approx(2.0)  # the point forecasts' score is not the intervals'


def test_served_intervals_still_calibrated_on_every_fold() -> None:
    """The forecast's interval is the one calibrated on all the run's errors, as before
    held-out coverage: few errors share one width, their pooled 80% quantile."""
    rng = np.random.default_rng(6)
    outcomes = [
        _folds_outcome([rng.normal(0.0, 1.0, 6), rng.normal(0.0, 3.0, 6)], mean=10.0, sd=2.0)
        for _ in range(3)
    ]
    width = np.quantile(np.abs([w.actual for o in outcomes for w in o.windows]), 0.8)
    forecast = finish(outcomes[0], fit_calibration(outcomes, (80, 95)), {}, _SETTINGS).forecast
    assert np.allclose(forecast["hi-80"], 10.0 + 2.0 * width)
    assert np.allclose(forecast["lo-80"], 10.0 - 2.0 * width)


def test_each_step_has_its_own_width_where_errors_grow_with_the_horizon() -> None:
    """With many series, a later step's errors set its own width: one width pooled over the
    steps would make a year ahead as narrow as next month."""
    rng = np.random.default_rng(5)
    spread = 1.0 + 0.2 * np.arange(12)  # the error sd rises from 1 to 3.2 over the year
    calib = fit_calibration([_outcome(rng.normal(0.0, spread), sd=1.0) for _ in range(200)], (80,))
    widths = calib.widths["m"][80]
    assert widths[-1] > 1.5 * widths[0]
    assert widths[0] == pytest.approx(1.2816 * 1.2, rel=0.25)  # smoothed with step 2's


def test_the_lag1_correlation_of_errors_is_measured() -> None:
    """Sample paths of totals draw consecutive errors correlated as the backtest's were."""
    rng = np.random.default_rng(6)

    def ar1(n: int, phi: float) -> np.ndarray:
        e = np.empty(n)
        e[0] = rng.normal(0.0, 1.0 / np.sqrt(1 - phi**2))
        for t in range(1, n):
            e[t] = phi * e[t - 1] + rng.normal()
        return e

    calib = fit_calibration([_outcome(ar1(12, 0.6), sd=1.0) for _ in range(60)], (80,))
    assert calib.rho["m"] == pytest.approx(0.6, abs=0.1)
    independent = fit_calibration([_outcome(rng.normal(size=12), sd=1.0) for _ in range(60)], (80,))
    assert independent.rho["m"] == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize(("errors", "calibrated_model"), [(10, True), (9, False)])
def test_ten_errors_are_enough_to_calibrate(errors: int, calibrated_model: bool) -> None:
    rng = np.random.default_rng(7)
    calib = fit_calibration([_outcome(rng.normal(size=1), sd=1.0) for _ in range(errors)], (80,))
    assert ("m" in calib.widths) is calibrated_model
    if calibrated_model:  # one error per series: no consecutive pair to correlate
        assert calib.rho["m"] == 0.0


def test_a_mean_floored_at_zero_lifts_its_upper_quantiles_as_far() -> None:
    # means -2 and 1 with half-widths 1.5 and 2: the first is lifted 2 to zero, and its upper
    # bound with it, to 1.5 (floored alone it was -0.5, so 0, and the interval [0, 0]);
    # the second, above zero, keeps its interval, less the part under zero
    pred = Prediction(
        np.array([-2.0, 1.0]), {"lo-80": np.array([-3.5, -1.0]), "hi-80": np.array([-0.5, 3.0])}
    )
    out = clipped(pred)
    assert out.mean.tolist() == [0.0, 1.0]
    assert out.quantiles["lo-80"].tolist() == [0.0, 0.0]
    assert out.quantiles["hi-80"].tolist() == [1.5, 3.0]


def test_a_fall_carried_below_zero_keeps_an_interval_above_it() -> None:
    # a steady fall from 80 to 6 in the last month: Holt carries it below zero within the
    # year, and every month's interval still has width, though the mean is floored at zero
    # (floored alone, the last months' were [0, 0])
    ds = pd.date_range("2020-01-01", periods=48, freq="MS")
    y = np.round(80 - 1.6 * np.arange(48) + np.random.default_rng(3).normal(0.0, 1.0, 48))
    history = pd.DataFrame({"unique_id": "decl", "ds": ds, "y": y})
    run = run_forecasts(history, ForecastSettings(horizon=12, models=("holt",), backtest_folds=2))
    fc = run.forecasts
    assert (fc["mean"] == 0.0).any()
    assert (fc["hi-80"] > fc["lo-80"]).all() and (fc["hi-95"] > fc["hi-80"]).all()
