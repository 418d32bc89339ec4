"""Every number of a planning config says what it counts: a client generated from
/openapi.json shows `dfg_fee_rate: number` with its unit (a fraction 0 to 1, not a percent),
and so for every numeric field of PlanningConfig and each schema it references."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from api.app import create_app
from tests.api.conftest import keyed_settings

REF = re.compile(r'"\$ref": "#/components/schemas/([^"]+)"')


def _config_schemas(schemas: dict[str, Any]) -> set[str]:
    """PlanningConfig and every schema it references, however deep."""
    found = {"PlanningConfig"}
    while True:
        more = {name for n in found for name in REF.findall(json.dumps(schemas[n]))} - found
        if not more:
            return found
        found |= more


def _numeric(prop: dict[str, Any]) -> bool:
    """A number, a nullable number, or a map (or list) of numbers."""
    inner = [prop, *prop.get("anyOf", [])]
    for p in list(inner):
        for key in ("additionalProperties", "items"):
            if isinstance(p.get(key), dict):
                inner += [p[key], *p[key].get("anyOf", [])]
    return any(p.get("type") in ("number", "integer") for p in inner)


def test_every_number_of_a_config_says_what_it_counts(tmp_path: Path) -> None:
    document = create_app(keyed_settings(tmp_path, "config-docs.db")).openapi()
    schemas = document["components"]["schemas"]
    names = _config_schemas(schemas)
    assert {"PlanningConfig", "ServiceConfig", "HoursBounds", "FeesConfig"} <= names
    numbers = [
        (name, key, prop)
        for name in sorted(names)
        for key, prop in schemas[name].get("properties", {}).items()
        if _numeric(prop)
    ]
    assert len(numbers) >= 30  # the walk found the config's numbers, not an empty set
    silent = [f"{name}.{key}" for name, key, prop in numbers if not prop.get("description")]
    assert silent == []
