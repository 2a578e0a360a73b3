"""Role and equipment guesses from BACnet object names, as integrators meet them in the field."""

from __future__ import annotations

import pytest

from metering.hvac.roles import Confidence, concepts, equipment, guess_role, words

AO, AI, AV = "analog-output", "analog-input", "analog-value"
BV, BI, MSV = "binary-value", "binary-input", "multi-state-value"


@pytest.mark.parametrize(
    ("object_type", "name", "units", "role"),
    [
        # valves: spelled out, abbreviated, run together, camel case, German
        (AO, "ahu-a.heating-valve", "%", "heating-valve"),
        (AO, "AHU-A.HTG-VLV", "%", "heating-valve"),
        (AO, "ahu_a_htgvlv_cmd", "%", "heating-valve"),
        (AO, "AHU1 HeatingValve", "%", "heating-valve"),
        (AO, "AHU 2 HW Valve Position", "%", "heating-valve"),
        (AO, "AHU1 Preheat Valve", "%", "heating-valve"),
        (AO, "RLT1 Heizventil", "%", "heating-valve"),
        (AO, "ahu-a.cooling-valve", "%", "cooling-valve"),
        (AO, "AHU-A CLG VLV", "%", "cooling-valve"),
        (AO, "FCU B CHW Valve", "%", "cooling-valve"),
        (AO, "FCU3.ClgVlv", "%", "cooling-valve"),
        (AO, "RLT2 Kuehlventil", "%", "cooling-valve"),
        # a plain valve of equipment that only heats is its heating valve
        (AO, "perimeter-a.valve", "%", "heating-valve"),
        (AO, "HK1 Ventil", "%", "heating-valve"),
        (AO, "Radiator B VLV", "%", "heating-valve"),
        # dampers
        (AO, "ahu-a.oa-damper", "%", "outdoor-air-damper"),
        (AO, "AHU-A OA DMPR", "%", "outdoor-air-damper"),
        (AO, "AHU1 Outside Air Damper", "%", "outdoor-air-damper"),
        (AO, "AHU1_OAD", "%", "outdoor-air-damper"),
        (AO, "RLT1 AUL Klappe", "%", "outdoor-air-damper"),
        (AO, "AHU1 Economizer Damper", "%", "outdoor-air-damper"),
        (AO, "AHU1 Return Air Damper", "%", "damper"),
        # fans
        (BV, "ahu-a.fan", None, "fan-status"),
        (BI, "FCU B Fan Status", None, "fan-status"),
        (BI, "AHU1 SF Sts", None, "fan-status"),
        (BI, "AHU1_SFS", None, "fan-status"),
        (AO, "ahu-a.fan-speed", "%", "fan-speed"),
        (AO, "AHU1 Supply Fan VFD", "%", "fan-speed"),
        (AO, "AHU1 SF Spd", "Hz", "fan-speed"),
        (AO, "AHU1 Fan", "%", "fan-speed"),
        # air temperatures
        (AI, "ahu-a.supply-temp", "degC", "supply-air-temperature"),
        (AI, "AHU-A SAT", "degC", "supply-air-temperature"),
        (AI, "AHU1SAT", "degC", "supply-air-temperature"),
        (AI, "AHU1 Discharge Air Temp", "degF", "supply-air-temperature"),
        (AI, "RLT01 Zuluft Temperatur", "degC", "supply-air-temperature"),
        (AI, "ahu-a.mixed-temp", "degC", "mixed-air-temperature"),
        (AI, "AHU-A MAT", "degC", "mixed-air-temperature"),
        (AI, "ahu-a.return-temp", "degC", "return-air-temperature"),
        (AI, "AHU-A RAT", "degC", "return-air-temperature"),
        (AI, "AHU A Return Air Temperature", "degrees-celsius", "return-air-temperature"),
        (AI, "outside-air-temp", "degC", "outside-air-temperature"),
        (AI, "OAT", "degC", "outside-air-temperature"),
        (AI, "Outdoor Air Temp", "degF", "outside-air-temperature"),
        (AI, "Aussentemperatur", "degC", "outside-air-temperature"),
        (AI, "FCU-3 Room Temp", "degC", "zone-temperature"),
        (AI, "VAV 2-14 ZNT", "degC", "zone-temperature"),
        (AI, "AHU1.SupplyAirTemp", "degC", "supply-air-temperature"),
        (AI, "Space Temperature", "degC", "zone-temperature"),
        # setpoints
        (AV, "ahu-a.supply-setpoint", "degC", "supply-air-setpoint"),
        (AV, "AHU-A SAT SP", "degC", "supply-air-setpoint"),
        (AV, "AHU1_SATSP", "degC", "supply-air-setpoint"),
        (AV, "Supply Air Temp Setpoint", "degC", "supply-air-setpoint"),
        (AV, "ahu-a.zone-heat-sp", "degC", "heating-setpoint"),
        (AV, "Zone Heating Setpoint", "degC", "heating-setpoint"),
        (AV, "Occupied Htg Stpt", "degC", "heating-setpoint"),
        (AV, "FCU B HSP", "degC", "heating-setpoint"),
        (AV, "ahu-a.zone-cool-sp", "degC", "cooling-setpoint"),
        (AV, "Unocc Clg Set Point", "degC", "cooling-setpoint"),
        (AV, "Raum Kuehl Sollwert", "degC", "cooling-setpoint"),
        # occupancy and modes
        (MSV, "ahu-a.occupancy", None, "occupancy"),
        (BV, "AHU1 OCC", None, "occupancy"),
        (MSV, "AHU1 Occupancy Mode", None, "occupancy"),
        (MSV, "AHU1 Operating Mode", None, "operating-mode"),
        (MSV, "FCU 4 Heat/Cool Mode", None, "operating-mode"),
        (BV, "AHU1 Time Schedule", None, "occupancy"),
        (BV, "RLT1 Zeitprogramm", None, "occupancy"),
    ],
)
def test_clear_names_give_their_role(object_type: str, name: str, units: str | None, role: str) -> None:
    guess = guess_role(object_type, name, units=units)
    assert guess.role == role, guess.reason
    assert guess.needs_confirmation


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ahu-a.heating-valve", "ahu-a"),
        ("AHU-A.HTG-VLV", "ahu-a"),
        ("ahu_b_clg_vlv", "ahu-b"),
        ("AHU B Fan", "ahu-b"),
        ("AHU1SAT", "ahu-1"),
        ("AHU01 Supply Temp", "ahu-01"),
        ("AHU-12 Supply Temp", "ahu-12"),
        ("FCU B Fan Status", "fcu-b"),
        ("fcu-a.fan", "fcu-a"),
        ("FCU3.ClgVlv", "fcu-3"),
        ("RLT01_ZUL_T", "ahu-01"),
        ("perimeter-a.valve", "perimeter-a"),
        ("HK2 Ventil", "hk-2"),
        ("VAV 2-14 ZNT", "vav-2"),
        # the word after the kind is part of the point's name, not a designator
        ("AHU SA Temp", "ahu"),
        ("AHU Fan", "ahu"),
        ("outside-air-temp", None),
        ("holidays", None),
    ],
)
def test_equipment_from_name_prefixes(name: str, expected: str | None) -> None:
    assert equipment(name) == expected


def test_words_split_separators_camel_case_and_umlauts() -> None:
    assert words("AHU-A.HtgVlv_Cmd") == ["ahu", "a", "htg", "vlv", "cmd"]
    assert words("Außentemperatur") == ["aussentemperatur"]
    assert words("  ") == []


def test_abbreviations_written_together_are_split() -> None:
    assert concepts("htgvlv") == {"heating", "valve"}
    assert concepts("SATSP") == {"supply", "air", "temperature", "setpoint"}
    assert concepts("xyzzy") == set()  # nothing known: nothing guessed


def test_schedule_and_calendar_are_certain_from_their_type() -> None:
    schedule = guess_role("schedule", "AHU-B Occupancy Schedule")
    assert (schedule.role, schedule.confidence, schedule.equipment) == ("schedule", Confidence.CERTAIN, "ahu-b")
    assert not schedule.needs_confirmation
    calendar = guess_role("calendar", "holidays")
    assert (calendar.role, calendar.confidence, calendar.equipment) == ("calendar", Confidence.CERTAIN, None)


def test_confidence_follows_type_and_units() -> None:
    # name, type and units agree
    assert guess_role(AO, "AHU-A HTG VLV", units="%").confidence is Confidence.LIKELY
    # an analog value without units proves nothing
    assert guess_role(AO, "AHU-A HTG VLV").confidence is Confidence.POSSIBLE
    # a fan status on an analog input: the name says it, the type does not
    possible = guess_role(AI, "AHU1 Fan Status")
    assert (possible.role, possible.confidence) == ("fan-status", Confidence.POSSIBLE)
    assert "though it is a analog-input" in possible.reason
    # "SA" in °C is probably the supply air temperature, but only the units say "temperature"
    implied = guess_role(AI, "AHU1 SA", units="degC")
    assert (implied.role, implied.confidence) == ("supply-air-temperature", Confidence.POSSIBLE)


def test_contradicting_units_drop_the_guess() -> None:
    wrong = guess_role(AO, "AHU-A Heating Valve", units="degC")
    assert wrong.role is None and wrong.confidence is Confidence.NONE
    assert "units are degC" in wrong.reason
    assert guess_role(BV, "AHU1 Fan Status", units="degC").role is None


def test_water_side_temperatures_are_not_air_temperatures() -> None:
    assert guess_role(AI, "HW Return Temp", units="degC").role is None
    assert guess_role(AI, "CHW Supply Temperature", units="degC").role is None
    assert guess_role(AV, "HW Supply Temp Setpoint", units="degC").role is None
    # but the valves on those circuits are still valves
    assert guess_role(AO, "AHU1 CHW VLV", units="%").role == "cooling-valve"


def test_heating_and_cooling_together_is_no_guess() -> None:
    both = guess_role(AO, "FCU 4 Heating/Cooling Valve", units="%")
    assert both.role is None and "both heating and cooling" in both.reason
    assert both.equipment == "fcu-4"


def test_unknown_names_keep_their_equipment_and_say_why() -> None:
    unknown = guess_role(AV, "AHU-A Filter DP", units="pascals")
    assert unknown.role is None and unknown.confidence is Confidence.NONE
    assert unknown.equipment == "ahu-a"
    assert unknown.reason == "nothing in 'AHU-A Filter DP' names a known role"


def test_the_description_helps_when_the_name_says_nothing() -> None:
    guess = guess_role(AO, "AO-17", "AHU-C heating coil valve", units="%")
    assert (guess.role, guess.equipment) == ("heating-valve", "ahu-c")
    # the name wins when it names a role
    assert guess_role(AO, "AHU1 CLG VLV", "heating valve (wrong label)", units="%").role == "cooling-valve"


def test_state_names_help_when_the_name_says_nothing() -> None:
    occ = guess_role(MSV, "MSV-3", states=("Occupied", "Unoccupied", "Standby"))
    assert (occ.role, occ.confidence) == ("occupancy", Confidence.POSSIBLE)
    assert occ.reason == "its states are Occupied/Unoccupied/Standby"
    assert guess_role(BV, "BV-12", states=("Unocc", "Occ")).role == "occupancy"
    mode = guess_role(MSV, "FCU-4 MSV 2", states=("Off", "Heat", "Cool", "Auto", "Fan only"))
    assert (mode.role, mode.equipment) == ("operating-mode", "fcu-4")
    assert mode.reason == "its states are Off/Heat/Cool/Auto/..."
    # the name wins over the states; states of an analog object mean nothing
    assert guess_role(BV, "AHU1 Fan Status", states=("Unoccupied", "Occupied")).role == "fan-status"
    assert guess_role(AV, "AV-3", states=("Occupied", "Unoccupied")).role is None
    assert guess_role(MSV, "MSV-4", states=("Low", "Medium", "High")).role is None
