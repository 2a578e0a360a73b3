"""Guessing a BMS point's role and equipment from what a BACnet object says about itself.

Discovery (`bms-bridge discover`) finds objects named by whoever programmed the controller:
"AHU-A.HTG-VLV", "ahu_a_clg_vlv_cmd", "FCU B Fan Status", "RLT1 Zuluft Temp". The integrator has to
say what each one is; this module makes a first guess to confirm, from the object type, name,
description and units. It is table-driven: words and abbreviations map to concepts (`VOCABULARY`,
`COMPOUNDS`), and the first rule in `RULES` whose concepts are all present gives the role. Object type
and units then decide how sure the guess is; a contradiction (a "valve" measured in °C) drops it.

Nothing here is certain except Schedule and Calendar objects, whose role is their type: every other
guess carries `needs_confirmation`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from point_mapping.model.bms import BmsRole


class Confidence(StrEnum):
    CERTAIN = "certain"  # the object type says it (Schedule, Calendar)
    LIKELY = "likely"  # the name says it, and the object type and units agree
    POSSIBLE = "possible"  # the name hints at it, but type or units do not confirm it
    NONE = "none"  # no role could be guessed


# word or abbreviation (lower case) -> concepts it stands for
VOCABULARY: Mapping[str, frozenset[str]] = {
    word: frozenset(concepts.split())
    for concepts, words in (
        ("heating", "heating heat htg hts htr heater reheat preheat heiz heizung heizen waerme"),
        ("heating water", "hw hhw lphw hws hwr"),
        ("cooling water", "chw chws chwr"),
        ("water", "water wasser wtr"),
        ("cooling", "cooling cool clg chilled kuehl kuehlung kuhl kaelte kalt"),
        ("valve", "valve vlv vlve valv vv ventil"),
        ("damper", "damper dmpr dmp dpr klappe"),
        ("outdoor", "outdoor outside oa osa ambient amb fresh aussen aul economizer economiser econ"),
        ("supply", "supply sa discharge da zuluft zul"),
        ("return", "return ra ret abluft abl"),
        ("mixed", "mixed mix ma mischluft misch"),
        ("zone", "zone zn room rm space raum"),
        ("temperature", "temperature temp tmp tem temperatur"),
        ("setpoint", "setpoint set sp stpt spt setpt setp sollwert soll"),
        ("fan", "fan fn ventilator luefter sf"),
        ("status", "status sts stat state run running proof fb feedback betrieb"),
        ("speed", "speed spd vfd vsd freq frequency drehzahl"),
        ("occupancy", "occupancy occ occupied unocc unoccupied occupation presence belegung belegt"),
        ("mode", "mode modus betriebsart"),
        ("schedule", "schedule sched sch timeprogram zeitprogramm"),
        ("air", "air luft"),
    )
    for word in words.split()
}

# one token that stands for several words (BMS naming conventions)
COMPOUNDS: Mapping[str, frozenset[str]] = {
    word: frozenset(concepts.split())
    for word, concepts in (
        ("sat", "supply air temperature"),
        ("dat", "supply air temperature"),
        ("oat", "outdoor air temperature"),
        ("rat", "return air temperature"),
        ("mat", "mixed air temperature"),
        ("zat", "zone temperature"),
        ("znt", "zone temperature"),
        ("rmt", "zone temperature"),
        ("oad", "outdoor damper"),
        ("sfs", "fan status"),
        ("sfss", "fan status"),
        ("sfspd", "fan speed"),
        ("hsp", "heating setpoint"),
        ("csp", "cooling setpoint"),
        ("sasp", "supply air setpoint"),
        ("satsp", "supply air temperature setpoint"),
        ("datsp", "supply air temperature setpoint"),
    )
}

# equipment kinds as they appear in names -> the id prefix we give them
EQUIPMENT_KINDS: Mapping[str, str] = {
    "ahu": "ahu",
    "rlt": "ahu",  # Raumlufttechnische Anlage
    "lueftung": "ahu",
    "fcu": "fcu",
    "fc": "fcu",
    "fancoil": "fcu",
    "vav": "vav",
    "rtu": "rtu",
    "doas": "doas",
    "perimeter": "perimeter",
    "radiator": "radiator",
    "rad": "radiator",
    "hk": "hk",  # Heizkreis: a heating circuit
    "boiler": "boiler",
    "chiller": "chiller",
}
# equipment that only heats (or only cools): its plain "valve" is a heating (cooling) valve
HEATING_ONLY = frozenset({"perimeter", "radiator", "hk", "boiler"})
COOLING_ONLY = frozenset({"chiller"})

# analog / binary / multistate families of BACnet object types (ASHRAE 135 clause 12)
ANALOG = frozenset({"analog-input", "analog-output", "analog-value"})
BINARY = frozenset({"binary-input", "binary-output", "binary-value"})
MULTISTATE = frozenset({"multi-state-input", "multi-state-output", "multi-state-value"})

TEMPERATURE_UNITS = frozenset(
    {"degC", "K", "degF", "degrees-celsius", "degrees-fahrenheit", "degrees-kelvin", "kelvin", "delta-degrees-kelvin"}
)
PERCENT_UNITS = frozenset({"%", "percent"})
SPEED_UNITS = PERCENT_UNITS | {"Hz", "hertz", "revolutions-per-minute", "rpm"}
NO_UNITS = frozenset({"", "no-units", "noUnits"})


@dataclass(frozen=True, slots=True)
class Rule:
    role: BmsRole
    concepts: frozenset[str]  # all must be present
    types: frozenset[str]  # object types the role can have
    units: frozenset[str] | None  # units it can have (None: any, or none at all)
    forbid: frozenset[str] = frozenset()  # concepts that rule it out ("HW return temp" is no air)


def _rule(role: BmsRole, concepts: str, types: frozenset[str], units: frozenset[str] | None, forbid: str = "") -> Rule:
    return Rule(role, frozenset(concepts.split()), types, units, frozenset(forbid.split()))


_ANALOG_OR_BINARY = ANALOG | BINARY
_SENSOR = frozenset({"analog-input", "analog-value"})
_STATE = BINARY | MULTISTATE

# first match wins: setpoints before temperatures ("SAT SP"), specific before general ("OA damper")
RULES: tuple[Rule, ...] = (
    _rule("heating-setpoint", "heating setpoint", ANALOG, TEMPERATURE_UNITS, forbid="water"),
    _rule("cooling-setpoint", "cooling setpoint", ANALOG, TEMPERATURE_UNITS, forbid="water"),
    _rule("supply-air-setpoint", "supply setpoint", ANALOG, TEMPERATURE_UNITS, forbid="water"),
    _rule("supply-air-temperature", "supply temperature", _SENSOR, TEMPERATURE_UNITS, forbid="water"),
    _rule("mixed-air-temperature", "mixed temperature", _SENSOR, TEMPERATURE_UNITS, forbid="water"),
    _rule("return-air-temperature", "return temperature", _SENSOR, TEMPERATURE_UNITS, forbid="water"),
    _rule("outside-air-temperature", "outdoor temperature", _SENSOR, TEMPERATURE_UNITS, forbid="water"),
    _rule("zone-temperature", "zone temperature", _SENSOR, TEMPERATURE_UNITS, forbid="water"),
    _rule("heating-valve", "heating valve", _ANALOG_OR_BINARY, PERCENT_UNITS),
    _rule("cooling-valve", "cooling valve", _ANALOG_OR_BINARY, PERCENT_UNITS),
    _rule("outdoor-air-damper", "outdoor damper", _ANALOG_OR_BINARY, PERCENT_UNITS),
    _rule("damper", "damper", _ANALOG_OR_BINARY, PERCENT_UNITS),
    _rule("fan-speed", "fan speed", ANALOG, SPEED_UNITS),
    _rule("fan-status", "fan status", _STATE, None),
    _rule("occupancy", "occupancy", _STATE | ANALOG, None),
    # a binary or multistate value a time program drives ("AHU1 OCC SCHED", "RLT1 Zeitprogramm") says
    # occupied or not; the Schedule object itself is recognised by its type
    _rule("occupancy", "schedule", _STATE, None),
    _rule("operating-mode", "mode", MULTISTATE | ANALOG, None),
)
# a bare "fan": its status if it is binary, its speed if it is an analog percentage
_FAN_BY_TYPE = (_rule("fan-status", "fan", _STATE, None), _rule("fan-speed", "fan", ANALOG, SPEED_UNITS))

_BY_TYPE: Mapping[str, BmsRole] = {"schedule": "schedule", "calendar": "calendar"}


@dataclass(frozen=True, slots=True)
class RoleGuess:
    role: BmsRole | None
    confidence: Confidence
    equipment: str | None  # e.g. "ahu-a", "fcu-3"; None when the name names no equipment
    reason: str  # one line for the integrator: what the guess rests on, or why there is none

    @property
    def needs_confirmation(self) -> bool:
        return self.confidence is not Confidence.CERTAIN


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def words(text: str) -> list[str]:
    """'AHU-A.HtgVlv_Cmd' -> ['ahu', 'a', 'htg', 'vlv', 'cmd'] (camel case and separators split)."""
    spaced = _CAMEL.sub(" ", text)
    return [w for w in _NOT_WORD.split(spaced.lower().translate(_UMLAUTS)) if w]


def _known(word: str) -> frozenset[str] | None:
    return VOCABULARY.get(word) or COMPOUNDS.get(word)


@cache
def _split_run_together(word: str) -> tuple[str, ...] | None:
    """'htgvlv' -> ('htg', 'vlv'): a token that is known words written together, else None."""
    if len(word) < 4:
        return None
    for cut in range(len(word) - 2, 1, -1):
        head, tail = word[:cut], word[cut:]
        if _known(head) is None:
            continue
        rest = (tail,) if _known(tail) is not None else _split_run_together(tail)
        if rest is not None:
            return (head, *rest)
    return None


def _parts(word: str) -> list[str]:
    """'ahu1sat' -> ['ahu', '1', 'sat']: letters and digits apart."""
    return re.findall(r"[a-z]+|\d+", word)


def concepts(text: str) -> set[str]:
    """Every concept the words of `text` stand for; digits are dropped ('sat1' reads as 'sat')."""
    found: set[str] = set()
    for word in words(text):
        for part in _parts(word):
            if part.isdigit():
                continue
            known = _known(part)
            if known is not None:
                found |= known
                continue
            for piece in _split_run_together(part) or ():
                found |= _known(piece) or frozenset()
    return found


_DESIGNATOR = re.compile(r"^(?:[a-z]|\d{1,3}[a-z]?|[a-z]\d{1,3})$")


def equipment(text: str) -> str | None:
    """'AHU-A.xxx' -> 'ahu-a', 'FCU 3 ...' -> 'fcu-3', 'RLT01_ZUL_T' -> 'ahu-01', 'AHU supply' -> 'ahu'."""
    tokens = words(text)
    for i, word in enumerate(tokens):
        parts = _parts(word)
        if parts[0] not in EQUIPMENT_KINDS:
            continue
        kind = EQUIPMENT_KINDS[parts[0]]
        if len(parts) > 1:  # "AHU1", "fcu12b", "ahu1sat"
            return f"{kind}-{parts[1]}" if parts[1].isdigit() else kind
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        # a one-letter or numeric designator ("AHU A", "FCU 12"), not a word of the point name
        if _DESIGNATOR.match(following) and _known(following) is None:
            return f"{kind}-{following}"
        return kind
    return None


def _units_family(units: str | None) -> str | None:
    if units is None or units in NO_UNITS:
        return None
    return units


def _match(found: set[str], kind: str | None) -> Rule | None:
    for rule in RULES:
        if rule.concepts <= found and not rule.forbid & found:
            return rule
    if "valve" in found and kind is not None:
        if kind in HEATING_ONLY:
            return _rule("heating-valve", "valve", _ANALOG_OR_BINARY, PERCENT_UNITS)
        if kind in COOLING_ONLY:
            return _rule("cooling-valve", "valve", _ANALOG_OR_BINARY, PERCENT_UNITS)
    return None


def _from_text(text: str, object_type: str, units: str | None, kind: str | None) -> RoleGuess | None:
    found = concepts(text)
    implied = False
    if "temperature" not in found and units in TEMPERATURE_UNITS and object_type in ANALOG:
        found.add("temperature")  # "AHU1 SA" in degC is a supply air temperature, probably
        implied = True
    if {"heating", "cooling"} <= found and ({"valve", "setpoint"} & found):
        return RoleGuess(None, Confidence.NONE, None, f"{text!r} says both heating and cooling")
    rule = _match(found, kind)
    if rule is None and "fan" in found:
        rule = next((r for r in _FAN_BY_TYPE if object_type in r.types), None)
    if rule is None:
        return None
    what = " + ".join(sorted(rule.concepts))
    unit = _units_family(units)
    if unit is not None and rule.units is not None and unit not in rule.units:
        return RoleGuess(None, Confidence.NONE, None, f"{text!r} reads as {rule.role} but its units are {unit}")
    if unit is not None and rule.units is None and unit in TEMPERATURE_UNITS:
        return RoleGuess(None, Confidence.NONE, None, f"{text!r} reads as {rule.role} but its units are {unit}")
    implied = implied and "temperature" in rule.concepts
    confirmed = object_type in rule.types and not implied
    if rule.units is not None and unit is None and object_type in ANALOG:
        confirmed = False  # an analog value with no units proves nothing
    confidence = Confidence.LIKELY if confirmed else Confidence.POSSIBLE
    reason = f"{what} in {text!r}" + ("" if object_type in rule.types else f", though it is a {object_type}")
    if implied:
        reason += f", temperature from its units {units}"
    return RoleGuess(rule.role, confidence, None, reason)


def _from_states(states: Sequence[str], object_type: str) -> RoleGuess | None:
    """A binary or multistate object's state names: "Occupied"/"Unoccupied", "Heat"/"Cool"/"Auto"."""
    if object_type not in _STATE or not states:
        return None
    found = concepts(" ".join(states))
    shown = "/".join(states[:4]) + ("/..." if len(states) > 4 else "")
    if "occupancy" in found:
        return RoleGuess("occupancy", Confidence.POSSIBLE, None, f"its states are {shown}")
    if {"heating", "cooling"} <= found and object_type in MULTISTATE:
        return RoleGuess("operating-mode", Confidence.POSSIBLE, None, f"its states are {shown}")
    return None


def guess_role(
    object_type: str, name: str, description: str = "", units: str | None = None, states: Sequence[str] = ()
) -> RoleGuess:
    """The role a BMS object probably plays, and the equipment its name says it belongs to.

    `object_type` is the BACnet type ("analog-output"); `units` our unit symbol ("%", "degC") or the
    BACnet units name ("degrees-fahrenheit"); `states` a multistate object's State_Text or a binary
    one's Inactive_Text and Active_Text. The name is tried first, then name and description, then
    the state names.
    """
    equip = equipment(name) or (equipment(description) if description else None)
    if object_type in _BY_TYPE:
        return RoleGuess(_BY_TYPE[object_type], Confidence.CERTAIN, equip, f"a {object_type} object")
    kind = equip.split("-")[0] if equip else None
    guess = _from_text(name, object_type, units, kind)
    if (guess is None or guess.role is None) and description:
        combined = _from_text(f"{name} {description}", object_type, units, kind)
        if combined is not None and (guess is None or combined.role is not None):
            guess = combined
    if guess is None or guess.role is None:
        guess = _from_states(states, object_type) or guess
    if guess is None:
        shown = f"{name!r}" + (f" ({description!r})" if description else "")
        return RoleGuess(None, Confidence.NONE, equip, f"nothing in {shown} names a known role")
    return RoleGuess(guess.role, guess.confidence, equip, guess.reason)
