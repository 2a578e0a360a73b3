"""Builtin meter profiles (one YAML file each, beside this module) and site-supplied custom profiles.

Canonical register names shared by the profiles, so a site can say `register: active_energy_import`
for any meter: see `CANONICAL_REGISTERS`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from point_mapping.errors import SiteInvalid, SiteProblem
from point_mapping.model.profiles import MeterProfile
from point_mapping.yaml_source import load_yaml_file

# name -> unit every profile must use for it (profiles convert with `scale`, e.g. W -> kW).
CANONICAL_REGISTERS: dict[str, str] = {
    "active_energy_import": "kWh",
    "active_energy_export": "kWh",
    "reactive_energy_import": "kvarh",
    "reactive_energy_export": "kvarh",
    "active_power": "kW",
    "voltage_l1": "V",
    "voltage_l2": "V",
    "voltage_l3": "V",
    "current_l1": "A",
    "current_l2": "A",
    "current_l3": "A",
    "frequency": "Hz",
    "power_factor": "PF",
}
# Pulse counter modules name their channels counter_1 .. counter_N, unit "pulses".
COUNTER_PREFIX = "counter_"


def load_profile_file(path: str | Path) -> MeterProfile:
    """Load and validate one profile; errors point at `file:line:col` (raises SiteInvalid)."""
    file = Path(path)
    doc, problems = load_yaml_file(file, str(file))
    if problems:
        raise SiteInvalid(problems)
    try:
        return MeterProfile.model_validate(doc.data)
    except ValidationError as exc:
        raise SiteInvalid(
            [
                SiteProblem(doc.locate(tuple(err["loc"])), f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
                for err in exc.errors()
            ]
        ) from None


@functools.cache
def _load_builtin() -> Mapping[str, MeterProfile]:
    found: dict[str, MeterProfile] = {}
    with resources.as_file(resources.files(__name__)) as folder:
        for file in sorted(folder.glob("*.yaml")):
            profile = load_profile_file(file)
            # The file name is the id: one obvious place to look for a profile.
            if profile.id != file.stem:
                raise ValueError(f"{file}: profile id {profile.id!r} differs from the file name")
            found[profile.id] = profile
    return MappingProxyType(found)


def builtin_profiles() -> Mapping[str, MeterProfile]:
    """The profiles shipped with bms-bridge, by id (read-only, loaded once)."""
    return _load_builtin()


def merge_profiles(
    builtin: Mapping[str, MeterProfile], custom: Mapping[str, MeterProfile] | Iterable[MeterProfile]
) -> dict[str, MeterProfile]:
    """Builtin plus a site's own profiles. A custom id may not shadow a builtin one or repeat."""
    merged = dict(builtin)
    profiles = custom.values() if isinstance(custom, Mapping) else custom
    custom_ids: set[str] = set()
    for profile in profiles:
        if profile.id in builtin:
            raise ValueError(
                f"custom meter profile {profile.id!r} has the id of a builtin profile; "
                f"give it another id (builtin ids: {', '.join(sorted(builtin))})"
            )
        if profile.id in custom_ids:
            raise ValueError(f"custom meter profile {profile.id!r} is defined twice")
        custom_ids.add(profile.id)
        merged[profile.id] = profile
    return merged
