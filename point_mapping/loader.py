"""Load a site folder: every *.yaml file in it, merged into one frozen `SiteModel`.

Integrators split a site as they like: each file holds top-level sections (`site:`, `devices:`,
`meters:` ...). List sections are concatenated across files; a mapping section may appear in one
file only. Every problem found — syntax, schema, references — is reported with `file:line:col`,
all at once, and a site with any problem is not loaded at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from point_mapping.errors import Location, SiteInvalid, SiteProblem
from point_mapping.identifiers import LOCK_FILE, Identifiers, assign_identifiers, read_lock
from point_mapping.locator import Locator
from point_mapping.model import LIST_SECTIONS, MAPPING_SECTIONS, MeterProfile, SiteModel
from point_mapping.references import check_references
from point_mapping.yaml_source import SourceDoc, load_yaml_file

log = logging.getLogger(__name__)

SITE_STATE_DIR = ".state"


@dataclass(frozen=True)
class LoadedSite:
    folder: Path
    model: SiteModel
    locator: Locator
    profiles: Mapping[str, MeterProfile]  # builtin and the site's own, by id
    identifiers: Identifiers

    @property
    def state_dir(self) -> Path:
        return self.folder / SITE_STATE_DIR


def site_files(folder: Path) -> list[Path]:
    """The YAML files of a site, in a stable order; the lock file and the state folder are not config."""
    files = [
        p
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and p.name != LOCK_FILE
        and SITE_STATE_DIR not in p.relative_to(folder).parts
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return files


def load_site(folder: str | Path, builtin_profiles: Mapping[str, MeterProfile] | None = None) -> LoadedSite:
    """Load and check a site; raise `SiteInvalid` listing every problem."""
    root = Path(folder)
    if not root.is_dir():
        raise SiteInvalid([SiteProblem(Location(str(root), 1, 1), "site folder does not exist")])
    files = site_files(root)
    if not files:
        raise SiteInvalid([SiteProblem(Location(str(root), 1, 1), "no *.yaml files in the site folder")])

    problems: list[SiteProblem] = []
    locator = Locator(fallback=Location(str(files[0]), 1, 1))
    merged: dict[str, Any] = {}
    for path in files:
        doc, found = load_yaml_file(path, str(path))
        problems.extend(found)
        if not found:
            problems.extend(_merge(doc, merged, locator))
    if problems:
        raise SiteInvalid(problems)

    if "site" not in merged:
        problems.append(SiteProblem(locator.fallback, "no file defines the 'site:' section"))
        raise SiteInvalid(problems)
    try:
        model = SiteModel.model_validate(merged)
    except ValidationError as exc:
        raise SiteInvalid([_problem_from(error, locator) for error in exc.errors()]) from None

    profiles = dict(builtin_profiles or {})
    for index, profile in enumerate(model.profiles):
        if profile.id in profiles:
            problems.append(
                locator.problem(("profiles", index, "id"), f"profile '{profile.id}' shadows a builtin profile")
            )
        profiles[profile.id] = profile
    problems.extend(check_references(model, locator, profiles))
    identifiers, id_problems = assign_identifiers(model, locator, read_lock(root))
    problems.extend(id_problems)
    if problems:
        raise SiteInvalid(problems)
    log.debug("loaded site %s from %d files", model.site.id, len(files))
    return LoadedSite(root, model, locator, profiles, identifiers)


def _merge(doc: SourceDoc, merged: dict[str, Any], locator: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    if doc.data is None:
        return problems  # an empty file is fine
    if not isinstance(doc.data, dict):
        return [SiteProblem(doc.locate(()), "a site file must be a mapping of sections (site:, meters:, ...)")]
    known = ", ".join((*MAPPING_SECTIONS, *LIST_SECTIONS))
    for section, value in doc.data.items():
        where = doc.locations.get((section, "__key__"), doc.locate((section,)))
        if section in MAPPING_SECTIONS:
            if section in merged:
                first = locator.mappings[section][0].locate((section,))
                problems.append(SiteProblem(where, f"section '{section}' is already defined at {first}"))
                continue
            merged[section] = value
            locator.mappings[section] = (doc, (section,))
        elif section in LIST_SECTIONS:
            if value is None:
                continue
            if not isinstance(value, list):
                problems.append(SiteProblem(doc.locate((section,)), f"section '{section}' must be a list"))
                continue
            items = locator.list_items.setdefault(section, [])
            merged.setdefault(section, []).extend(value)
            items.extend((doc, (section, index)) for index in range(len(value)))
        else:
            problems.append(SiteProblem(where, f"unknown section '{section}'; known sections: {known}"))
    return problems


def _problem_from(error: Any, locator: Locator) -> SiteProblem:
    path = tuple(error["loc"])
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return SiteProblem(locator.key_at(*path), f"unknown key '{path[-1]}'")
    if kind == "missing":
        return SiteProblem(locator.at(*path[:-1]), f"missing required key '{path[-1]}'")
    field = str(path[-1]) if len(path) > 1 and isinstance(path[-1], str) else ""
    text = f"{field}: {message}" if field else message
    return SiteProblem(locator.at(*path), text)
