"""A team's id names stored series and every text of a config is written into CSV cells, so
both are refused when sent unless they fit (the reviewer's payloads: a path, a line break,
markup, a 300-character id); a config stored before the checks still reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from homeward import planning
from homeward.ingest import SERIES_ID_PART
from models import Base, SeriesRow
from optimise.config import (
    MAX_TEAM_ID_LENGTH,
    SERVICE_IDS,
    TEAM_ID_PATTERN,
    PlanningConfig,
    RefusedValue,
    read_stored,
)
from tests.optimise.factory import hand_config, refusal

EXPECTED_TEAM_ID = (
    "a lower-case id of a-z, 0-9, '_', '.', '-' (starting with a letter or digit), at most 174 "
    "characters, as its referral totals referrals_team/<service>/<team id> name it"
)


def _with_team(team_id: str) -> dict[str, Any]:
    raw = hand_config()
    raw["teams"][0]["id"] = team_id
    raw["districts"][0]["team"] = team_id
    return raw


@pytest.mark.parametrize(
    "team_id",
    [
        "../../south",
        "north\r=cmd|' /C calc'!A0",
        "<img src=x onerror=alert(1)>",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3",
        '\t=HYPERLINK("http://x/")',
        "North",
        "north/east",
    ],
)
def test_a_team_id_that_cannot_be_one_part_of_a_series_id_is_refused(team_id: str) -> None:
    refused = refusal(_with_team(team_id))
    assert refused == RefusedValue(("teams", 0, "id"), EXPECTED_TEAM_ID, json.dumps(team_id))


def test_a_team_id_longer_than_its_series_id_can_hold_is_refused() -> None:
    assert PlanningConfig.model_validate(_with_team("t" * MAX_TEAM_ID_LENGTH))
    refused = refusal(_with_team("n" * 300))
    assert refused.loc == ("teams", 0, "id") and refused.expected == EXPECTED_TEAM_ID
    assert refused.found == f'300 characters ("{"n" * 40}"...)'


def test_the_longest_team_id_names_a_total_every_series_id_column_holds() -> None:
    """174 = 200 - len('referrals_team/') - len('reablement') - 1."""
    longest = max(SERVICE_IDS, key=len)
    total = f"{planning.TEAM_PREFIX}{longest}/{'t' * MAX_TEAM_ID_LENGTH}"
    assert MAX_TEAM_ID_LENGTH == 174
    columns = [c for t in Base.metadata.tables.values() for c in t.columns]
    held = [c.type.length for c in columns if c.name == "series_id"] + [SeriesRow.id.type.length]
    assert len(held) > 3 and set(held) == {len(total)}
    assert TEAM_ID_PATTERN.pattern == SERIES_ID_PART  # one part, as an upload's ids


@pytest.mark.parametrize("field", ["name", "version"])
@pytest.mark.parametrize("text", ["finance-pack\r=cmd|' /C calc'!A0", "\t=1+1", "a\nb", "x\x00"])
def test_a_name_or_version_holding_a_control_character_is_refused(field: str, text: str) -> None:
    refused = refusal({**hand_config(), field: text})
    control = next(c for c in text if c in "\r\n\t\x00")
    assert refused == RefusedValue(
        (field,),
        "text without control characters",
        f"{json.dumps(text)}, holding {json.dumps(control)}",
    )


# a line break, NUL, and a right-to-left override (U+202E: "\u202egnp.exe" shows as
# "exe.png"), an isolate (U+2066): each would make a plan's line or cell read as another
CONTROLS = ["a\nb", "x\x00", "Rugby\u202e ybguR", "\u2066North\u2069"]


@pytest.mark.parametrize("text", CONTROLS)
def test_a_district_name_holding_a_control_character_is_refused(text: str) -> None:
    """As the config's own name: a plan writes a district's name in its lines and cells."""
    raw = hand_config()
    raw["districts"][0]["name"] = text
    control = next(c for c in text if c in "\n\x00\u202e\u2066")
    refused = refusal(raw)
    assert refused == RefusedValue(
        ("districts", 0, "name"),
        "text without control characters",
        f"{json.dumps(text)}, holding {json.dumps(control)}",
    )


@pytest.mark.parametrize("field", ["name", "version"])
def test_a_bidirectional_override_in_a_name_or_version_is_refused(field: str) -> None:
    """U+202E is a format character (Cf), not a control (Cc), so it passed the check."""
    refused = refusal({**hand_config(), field: "plan\u202e2026"})
    assert refused == RefusedValue(
        (field,), "text without control characters", '"plan\\u202e2026", holding "\\u202e"'
    )


@pytest.mark.parametrize(
    "name", ["Ynys Môn", "Caerdydd – Cardiff", "عربي\u200f", "👩\u200d🔧 team", "Nun\u00adeaton"]
)
def test_a_name_in_any_script_is_still_a_name(name: str) -> None:
    """Only controls are refused: accents, Welsh, right-to-left text and its mark (U+200F), a
    joiner (U+200D) and a soft hyphen are text."""
    raw = {**hand_config(), "name": name, "version": name}
    raw["districts"][0]["name"] = name
    config = PlanningConfig.model_validate(raw)
    assert (config.name, config.version, config.districts[0].name) == (name, name, name)


def test_a_formula_in_a_name_is_a_name_its_csv_cells_write_as_text() -> None:
    """Only control characters are refused: `=HYPERLINK(...)` is text a CSV writes as text
    (homeward.exports), and a name may start with `-` or `+`."""
    config = PlanningConfig.model_validate(
        {**hand_config(), "name": '=HYPERLINK("https://evil.example/")', "version": "+1"}
    )
    assert config.name.startswith("=") and config.version == "+1"


def test_a_config_stored_before_these_checks_still_reads() -> None:
    """Stored and active, it is read as stored (the pipeline then makes no team totals)."""
    raw = {**_with_team("n" * 300 + "\r=1"), "name": "a\rb", "version": "\t1\u202e"}
    raw["districts"][0]["name"] = "North\u202e\n"
    config = read_stored(raw)
    assert config.teams[0].id == "n" * 300 + "\r=1" and config.name == "a\rb"
    assert config.districts[0].name == "North\u202e\n" and config.version == "\t1\u202e"
