"""`?run_id=` on the forecast and metrics routes: a dashboard asks for a given run's forecasts
and backtest metrics (last week's beside this week's, the run behind a plan), ended or not; a
run without them is a 404 that names the runs with them, and a bad id a 422 naming the
parameter."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest

from homeward import repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import DemoDatabase, keyed_client
from tests.conftest import LiveServer

SERIES = "referrals/ot/rugby"


@pytest.fixture(scope="module")
def runs(demo_db: DemoDatabase) -> tuple[int, int, int]:
    """The demo's run, a later ended run whose forecasts are all one higher, and a run still
    running that has stored its forecasts (two higher)."""
    with transaction(demo_db.factory) as session:
        first = int(repository.latest_forecast_frame(session, "")["run_id"].max())
        frame = repository.latest_forecast_frame(session, "").drop(columns="run_id")
        made = []
        for status, more in (("succeeded", 1.0), ("running", 2.0)):
            run = repository.start_run(session, "pipeline", "api", "test")
            session.flush()
            repository.store_forecasts(
                session, run.id, frame.assign(mean=frame["mean"] + more), pd.DataFrame()
            )
            run.status = status
            made.append(run.id)
    return first, made[0], made[1]


@pytest.fixture(scope="module")
def viewer(demo_server: LiveServer, role_keys: dict[Role, str]) -> Iterator[httpx.Client]:
    yield from keyed_client(demo_server, role_keys[Role.VIEWER])


def _means(response: httpx.Response) -> list[float]:
    assert response.status_code == 200, response.text
    return [p["mean"] for p in response.json()["points"]]


def test_a_runs_forecasts_are_served_when_asked_for_ended_or_not(
    viewer: httpx.Client, runs: tuple[int, int, int]
) -> None:
    first, ended, running = runs
    newest = viewer.get(f"/v1/forecasts/{SERIES}")
    assert newest.json()["run_id"] == ended  # the running run is not served unasked
    asked = {run: viewer.get(f"/v1/forecasts/{SERIES}", params={"run_id": run}) for run in runs}
    assert [asked[run].json()["run_id"] for run in runs] == [first, ended, running]
    assert [m + 1.0 for m in _means(asked[first])] == pytest.approx(_means(newest))
    assert [m + 2.0 for m in _means(asked[first])] == pytest.approx(_means(asked[running]))
    table = viewer.get("/v1/forecasts.csv", params={"prefix": "referrals/ot/", "run_id": first})
    frame = pd.read_csv(io.StringIO(table.text))
    assert table.status_code == 200 and set(frame["run_id"]) == {first}
    assert SERIES in set(frame["unique_id"])
    winter = viewer.get(f"/v1/winter/{SERIES}", params={"run_id": running})
    assert winter.status_code == 200 and winter.json()["run_id"] == running
    table = viewer.get("/v1/winter.csv", params={"prefix": SERIES, "run_id": first})
    frame = pd.read_csv(io.StringIO(table.text))
    assert table.status_code == 200 and set(frame["run_id"]) == {first}


def test_a_runs_metrics_are_served_when_asked_for(
    viewer: httpx.Client, runs: tuple[int, int, int]
) -> None:
    """The later runs stored forecasts without metrics: the newest served run's metrics are a
    header alone, and asking for the demo's run gives its backtest, as its forecast has it."""
    first, ended, running = runs
    newest = pd.read_csv(io.StringIO(viewer.get("/v1/metrics.csv").text))
    assert newest.empty and "pinball" in newest.columns
    table = viewer.get("/v1/metrics.csv", params={"prefix": "referrals/ot/", "run_id": first})
    assert table.status_code == 200, table.text
    frame = pd.read_csv(io.StringIO(table.text))
    assert (
        set(frame["run_id"]) == {first} and frame["unique_id"].str.startswith("referrals/ot/").all()
    )
    backtest = viewer.get(f"/v1/forecasts/{SERIES}", params={"run_id": first}).json()["backtest"]
    rows = frame[frame["unique_id"] == SERIES].set_index("model")
    assert sorted(rows.index) == sorted(m["model"] for m in backtest)
    for m in backtest:
        assert rows.loc[m["model"], "mase"] == pytest.approx(m["metrics"]["mase"])
    chosen = viewer.get("/v1/metrics.csv", params={"chosen": "true", "run_id": first})
    assert pd.read_csv(io.StringIO(chosen.text))["chosen"].all()
    for run in (ended, running):  # forecasts but no metrics stored: a header, not a 404
        answer = viewer.get("/v1/metrics.csv", params={"run_id": run})
        assert answer.status_code == 200 and pd.read_csv(io.StringIO(answer.text)).empty


@pytest.mark.parametrize(
    "path",
    [f"/v1/forecasts/{SERIES}", f"/v1/winter/{SERIES}", "/v1/forecasts.csv", "/v1/metrics.csv"],
)
def test_no_such_run_is_a_404_naming_the_runs_with_the_forecast(
    viewer: httpx.Client, runs: tuple[int, int, int], path: str
) -> None:
    first, ended, running = runs
    missing = viewer.get(path, params={"run_id": 9999})
    assert missing.status_code == 404 and missing.json()["code"] == "no_forecast_in_run"
    detail = missing.json()["detail"]
    assert "no run 9999" in detail and f"{running}, {ended}, {first}" in detail, detail


@pytest.mark.parametrize("path", ["/v1/winter.csv", "/v1/metrics.csv"])
def test_a_run_with_no_forecast_under_the_prefix_is_a_404_saying_so(
    viewer: httpx.Client, runs: tuple[int, int, int], path: str
) -> None:
    first = runs[0]
    missing = viewer.get(path, params={"prefix": "nothing/", "run_id": first})
    assert missing.status_code == 404 and missing.json()["code"] == "no_forecast_in_run"
    detail = missing.json()["detail"]
    assert f"found run {first} (pipeline, succeeded), which made none;" in detail, detail
    assert "no run has" in detail
    # a run still at work may yet make one: a poller should not read it as never
    running = runs[2]
    later = viewer.get(path, params={"prefix": "nothing/", "run_id": running}).json()["detail"]
    assert f"found run {running} (pipeline, running), which made none yet;" in later, later


@pytest.mark.parametrize("path", [f"/v1/forecasts/{SERIES}", "/v1/metrics.csv"])
def test_a_run_id_that_is_not_a_whole_number_from_1_is_refused_naming_it(
    viewer: httpx.Client, path: str
) -> None:
    for sent, expected in (("0", "greater than or equal to 1"), ("last", "a valid integer")):
        refused = viewer.get(path, params={"run_id": sent})
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["problems"]
        assert problem["location"] == "query/run_id" and problem["found"] == repr(sent)
        assert expected in problem["expected"], problem
