"""HVAC conflict rules: pure functions over BMS trends, schedules and meter consumption.

`equipment` groups trends by AHU/FCU/circuit on a time grid; `rules` say for each instant whether a
conflict holds, does not hold, or cannot be judged (data gap, equipment off, point missing); `episodes`
turns those verdicts into findings that persisted long enough; `waste` prices the energy they cost.
"""
