"""Counter normalisation: cumulative register readings of one meter into consumption deltas.

Consumption is always a difference of registers (standards.md, "Counters, rollover, replacement").
A drop of the register is explained, in this order, by a declared meter exchange, a rollover at the
register's range, or (if enabled) a pulse controller that restarted from zero. A drop nothing explains,
a value outside the register's range and a step above the plausible maximum are reported as faults and
no consumption is invented for them: the step is skipped, leaving a gap the interval layer can see.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from metering.quality import worst
from metering.readings import Quality, Reading

# A very short step would make a per-hour cap meaningless against the register's resolution
# (1 kWh in a 10 s poll is "360 kWh/h"), so the cap is never scaled below one quarter hour.
_MIN_CAP_SPAN = timedelta(minutes=15)


class FaultKind(StrEnum):
    BACKWARDS = "backwards"  # register dropped and no exchange, rollover or restart explains it
    COUNTER_RESET = "counter-reset"  # pulse controller restarted from 0: counted, but worth an event
    IMPLAUSIBLE = "implausible"  # step above max_plausible_delta: a fault, not consumption
    OUT_OF_RANGE = "out-of-range"  # negative, not finite, or beyond the register's rollover range
    OUT_OF_ORDER = "out-of-order"  # timestamp not later than the previous good reading's
    REPLACEMENT_MISMATCH = "replacement-mismatch"  # declared exchange values contradict the readings


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """How to read one meter's cumulative register.

    `multiplier` turns raw counts into engineering units (CT ratio, pulse weight): raw × multiplier.
    `digits` (dial registers, wrap at 10^digits) or `bits` (binary counters, wrap at 2^bits) give the
    rollover range; neither means the register never wraps.

    `register_scale` is for readings already stored in engineering units (raw × CT ratio or pulse
    weight × unit conversion, as the store keeps them): the rollover then happens at
    10^digits × register_scale and a `Replacement`'s raw register values are scaled by it too. Build such
    a spec with `CounterSpec.for_point`; `multiplier` is then 1. `max_plausible_delta` is in engineering units
    per hour of elapsed time (scaled by each step's length, at least a quarter hour). A drop counts as a
    rollover only when the previous value lies in the top `rollover_window` of the range and the current
    one in the bottom `rollover_window`. With `reset_detection`, a drop to at most `reset_fraction` of the
    previous value is a controller restart.
    """

    multiplier: float = 1.0
    digits: int | None = None
    bits: int | None = None
    max_plausible_delta: float | None = None
    reset_detection: bool = False
    rollover_window: float = 0.1
    reset_fraction: float = 0.1
    register_scale: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.multiplier) and self.multiplier > 0):
            raise ValueError(f"multiplier must be a positive number, got {self.multiplier!r}")
        if not (math.isfinite(self.register_scale) and self.register_scale > 0):
            raise ValueError(f"register_scale must be a positive number, got {self.register_scale!r}")
        if self.digits is not None and self.bits is not None:
            raise ValueError("give the rollover either as digits or as bits, not both")
        # Float readings are exact integers only up to 2^53 (~9.007e15).
        if self.digits is not None and not 1 <= self.digits <= 15:
            raise ValueError(f"digits must be 1..15, got {self.digits}")
        if self.bits is not None and not 1 <= self.bits <= 64:
            raise ValueError(f"bits must be 1..64, got {self.bits}")
        if self.max_plausible_delta is not None and not self.max_plausible_delta > 0:
            raise ValueError(f"max_plausible_delta must be positive, got {self.max_plausible_delta!r}")
        if not 0 < self.rollover_window < 0.5:
            raise ValueError(f"rollover_window must be in (0, 0.5), got {self.rollover_window!r}")
        if not 0 < self.reset_fraction < 1:
            raise ValueError(f"reset_fraction must be in (0, 1), got {self.reset_fraction!r}")

    @classmethod
    def for_point(
        cls,
        *,
        digits: int | None = None,
        bits: int | None = None,
        scale: float = 1.0,
        max_plausible_delta: float | None = None,
        reset_detection: bool = False,
    ) -> CounterSpec:
        """A spec for readings stored in engineering units: stored value = raw register × `scale`.

        `scale` is the meter's multiplier (CT ratio or pulse weight) times the factor from the
        register's unit to the point's unit, e.g. 40 for a 200/5 A CT on a kWh register, 0.01 for a
        10 L pulse read into m3. `max_plausible_delta` is in the stored unit per hour.
        """
        return cls(
            digits=digits,
            bits=bits,
            register_scale=scale,
            max_plausible_delta=max_plausible_delta,
            reset_detection=reset_detection,
        )

    @property
    def wrap(self) -> float | None:
        """The reading at which the register rolls over to 0 (raw range × register_scale), or None."""
        if self.digits is not None:
            return float(10**self.digits) * self.register_scale
        if self.bits is not None:
            return float(2**self.bits) * self.register_scale
        return None


@dataclass(frozen=True, slots=True)
class Replacement:
    """A meter exchange at `ts`: the old meter's final and the new meter's initial raw register.

    Values are raw register values as read off the meters; `CounterSpec.register_scale` scales them.
    A reading stamped exactly at `ts` is taken as the old meter's (its final reading).
    """

    ts: datetime
    old_final: float
    new_initial: float

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"replacement has a naive timestamp {self.ts!r}")


@dataclass(frozen=True, slots=True)
class Delta:
    """Consumption in engineering units between two readings, over (start_ts, end_ts]."""

    start_ts: datetime
    end_ts: datetime
    value: float
    quality: Quality = Quality.MEASURED


@dataclass(frozen=True, slots=True)
class CounterFault:
    """Something the register did that is not plain consumption.

    `raw_before`/`raw_after` are the readings as given (before `multiplier`, so raw counts, or stored
    engineering values under `register_scale`).
    """

    ts: datetime
    kind: FaultKind
    message: str
    raw_before: float | None
    raw_after: float


@dataclass(frozen=True, slots=True)
class NormalisedSeries:
    point_id: str
    deltas: tuple[Delta, ...] = field(default=())
    faults: tuple[CounterFault, ...] = field(default=())


def normalise(
    readings: Sequence[Reading], spec: CounterSpec, replacements: Sequence[Replacement] = ()
) -> NormalisedSeries:
    """Turn time-ordered cumulative readings of one point into consumption deltas and fault events.

    Qualities: a delta is the worst of its two readings. A step bridged by a meter exchange is at best
    MANUAL, because the old final and new initial values were written down by the technician. A
    controller restart counts the pulses since the restart but is ESTIMATED: pulses counted between the
    previous reading and the power cut were lost with the volatile counter, so the value is a lower
    bound; it is an explained event (reported as a `counter-reset` fault), not a value we distrust, so it
    is not QUESTIONABLE. Faulty steps produce no delta; the series continues from the newer reading,
    except after an out-of-range or out-of-order reading, which is ignored altogether.
    """
    point_ids = {r.point_id for r in readings}
    if len(point_ids) > 1:
        raise ValueError(f"normalise takes readings of one point, got {sorted(point_ids)}")
    point_id = next(iter(point_ids), "")
    # Exchange values are raw register values (what the technician read off the dial): bring them to
    # the readings' scale.
    exchanges = sorted((_scaled(r, spec.register_scale) for r in replacements), key=lambda r: r.ts)
    wrap = spec.wrap
    deltas: list[Delta] = []
    faults: list[CounterFault] = []
    prev: Reading | None = None

    for cur in readings:
        before = prev.value if prev is not None else None
        if not math.isfinite(cur.value) or cur.value < 0 or (wrap is not None and cur.value >= wrap):
            limit = f" (register range 0..{wrap:.0f})" if wrap is not None else ""
            message = f"raw value {cur.value}{limit}; ignored"
            faults.append(_fault(cur, FaultKind.OUT_OF_RANGE, message, before))
            continue
        if prev is None:
            prev = cur
            continue
        if cur.ts <= prev.ts:
            message = f"timestamp {cur.ts.isoformat()} not after {prev.ts.isoformat()}; ignored"
            faults.append(_fault(cur, FaultKind.OUT_OF_ORDER, message, before))
            continue
        step = _step(prev, cur, spec, [x for x in exchanges if prev.ts <= x.ts < cur.ts])
        faults.extend(step.faults)
        if step.raw is not None:
            value = step.raw * spec.multiplier  # scaled after differencing: no precision lost on totals
            cap = _cap(spec, cur.ts - prev.ts)
            if cap is not None and value > cap:
                message = f"{value:g} in {cur.ts - prev.ts} exceeds the plausible {cap:g}; not counted"
                faults.append(_fault(cur, FaultKind.IMPLAUSIBLE, message, prev.value))
            else:
                deltas.append(Delta(prev.ts, cur.ts, value, step.quality))
        prev = cur
    return NormalisedSeries(point_id, tuple(deltas), tuple(faults))


@dataclass(frozen=True, slots=True)
class _Step:
    raw: float | None  # raw consumption, or None when the step is a fault
    quality: Quality
    faults: tuple[CounterFault, ...] = ()


def _step(prev: Reading, cur: Reading, spec: CounterSpec, exchanges: Sequence[Replacement]) -> _Step:
    quality = worst(prev.quality, cur.quality)
    if exchanges:
        return _bridge_exchanges(prev, cur, exchanges, quality)
    if cur.value >= prev.value:
        return _Step(cur.value - prev.value, quality)
    wrap = spec.wrap
    window = spec.rollover_window
    # Rollover is checked before restart: a wrap near the top of the range loses nothing.
    if wrap is not None and prev.value >= (1 - window) * wrap and cur.value < window * wrap:
        return _Step((cur.value - prev.value) % wrap, quality)
    if spec.reset_detection and cur.value <= spec.reset_fraction * prev.value:
        message = f"counter restarted: {prev.value:g} → {cur.value:g}; counted {cur.value:g} since restart"
        fault = _fault(cur, FaultKind.COUNTER_RESET, message, prev.value)
        return _Step(cur.value, worst(quality, Quality.ESTIMATED), (fault,))
    message = f"register went backwards {prev.value:g} → {cur.value:g}; no consumption counted"
    return _Step(None, quality, (_fault(cur, FaultKind.BACKWARDS, message, prev.value),))


def _bridge_exchanges(prev: Reading, cur: Reading, exchanges: Sequence[Replacement], quality: Quality) -> _Step:
    # (old final − old previous) + (new current − new initial), chained if several exchanges fall in one step.
    raw = 0.0
    start = prev.value
    for exchange in exchanges:
        if exchange.old_final < start:
            message = f"exchange at {exchange.ts.isoformat()}: old final {exchange.old_final:g} < {start:g}"
            return _Step(None, quality, (_fault(cur, FaultKind.REPLACEMENT_MISMATCH, message, prev.value),))
        raw += exchange.old_final - start
        start = exchange.new_initial
    if cur.value < start:
        message = f"reading {cur.value:g} is below the new meter's initial {start:g}"
        return _Step(None, quality, (_fault(cur, FaultKind.REPLACEMENT_MISMATCH, message, prev.value),))
    raw += cur.value - start
    return _Step(raw, worst(quality, Quality.MANUAL))


def _scaled(replacement: Replacement, scale: float) -> Replacement:
    if scale == 1.0:
        return replacement
    return Replacement(replacement.ts, replacement.old_final * scale, replacement.new_initial * scale)


def _cap(spec: CounterSpec, span: timedelta) -> float | None:
    if spec.max_plausible_delta is None:
        return None
    return spec.max_plausible_delta * max(span, _MIN_CAP_SPAN) / timedelta(hours=1)


def _fault(cur: Reading, kind: FaultKind, message: str, before: float | None) -> CounterFault:
    return CounterFault(cur.ts, kind, message, before, cur.value)
