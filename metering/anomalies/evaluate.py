"""All anomaly rules over one set of inputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from metering.anomalies.after_hours import after_hours
from metering.anomalies.balance import balance
from metering.anomalies.clock_drift import clock_drift
from metering.anomalies.counter_faults import counter_faults
from metering.anomalies.gaps import gaps
from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.night_flow import Night, night_flow
from metering.anomalies.stuck import stuck
from metering.events import Condition

KIND_PREFIX = "anomaly."
Rule = Callable[[AnomalyInputs], list[Condition]]
OTHER_RULES: tuple[Rule, ...] = (after_hours, stuck, gaps, balance, counter_faults, clock_drift)


def evaluate(
    inputs: AnomalyInputs,
    earlier_leaks: Mapping[str, Sequence[Night]] | None = None,
    open_ended: frozenset[str] = frozenset(),
) -> list[Condition]:
    """Every rule's conditions; `earlier_leaks` and `open_ended` as for `night_flow`."""
    if not inputs.site.anomalies.enabled:
        return []
    found = night_flow(inputs, earlier_leaks or {}, open_ended)
    for rule in OTHER_RULES:
        found.extend(rule(inputs))
    return found
