"""Building blocks shared by every site model: frozen base, identifiers, durations, units."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, model_validator

from point_mapping.units import unit_info


class Frozen(BaseModel):
    """Every site model is immutable and rejects keys it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# Ids appear in BACnet object names, OPC UA node ids, file names and URLs: keep them plain.
Id = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", min_length=1, max_length=80),
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> timedelta:
    """'250ms', '30s', '5m', '1h', '1d' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or text like '30s', '5m', '1h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration; write e.g. '30s', '5m', '1h' or a number of seconds")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _check_unit(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a unit must be text such as 'kWh', 'm3', 'degC'")
    unit_info(value)  # raises ValueError listing the known units
    return value


UnitSymbol = Annotated[str, BeforeValidator(_check_unit)]


class ValueRange(Frozen):
    """The values a point takes in normal operation, in its unit: what an HMI scales a bar graph by
    (OPC UA EURange, OPC 10000-8 5.3.2.4; BACnet Min_Pres_Value/Max_Pres_Value). `[0, 250]` or
    `{low: 0, high: 250}`."""

    low: float
    high: float

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple) and len(data) == 2:
            return {"low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> ValueRange:
        if not self.low < self.high:
            raise ValueError(f"range low ({self.low:g}) must be below high ({self.high:g})")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)


def secret_env_name(value: Any) -> str:
    """Secrets are named by environment variable, never written inline (DESIGN.md)."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
        raise ValueError(
            "name an environment variable (UPPER_CASE) that holds the secret; secrets are never written in YAML"
        )
    return value


EnvName = Annotated[str, BeforeValidator(secret_env_name)]
