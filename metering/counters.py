"""Counter normalisation with validation before counting (VEE): register readings into consumption deltas.

Consumption is always a difference of validated registers (docs/vee.md). Each step between two
readings must be a plausible continuation: a rise within the meter's plausibility cap, a declared meter
exchange, or a rollover (previous value near the wrap, current near zero, the delta through the wrap
within the cap). A step that breaks the pattern makes its reading *suspect*, and the following readings
decide:
- a later reading continues from the last good one → the suspect readings were a transient glitch
  (dip, spike, garbage read): they cost nothing and each yields a `glitch` fault;
- the readings after it continue from the suspect one → the register really moved: a pulse controller
  restart is counted from the low value (if the input is a pulse counter), anything else is a fault
  and no consumption is invented for the step;
- there are no readings after it yet → it stays `provisional`: not counted until confirmed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from metering.delta_columns import EPOCH, Delta, DeltaColumns, Floats, Ints, Ranks, microseconds
from metering.exchanges import EXCHANGE_TIME_TOLERANCE, MeterExchange, format_register
from metering.quality import rank, worst
from metering.readings import Quality, Reading

__all__ = ["LOOKAHEAD", "CounterFault", "CounterSpec", "Delta", "FaultKind", "NormalisedSeries", "normalise"]

Bools = npt.NDArray[np.bool_]
_US = timedelta(microseconds=1)

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
    EXCHANGE_TIME_ADJUSTED = "exchange-time-adjusted"  # exchange matched to the step near its written time
    GLITCH = "glitch"  # a transient dip or spike: the readings after it return to the previous course
    PROVISIONAL = "provisional"  # suspect reading at the end of the data: not counted until confirmed


# Faults that explain what happened without losing or inventing consumption.
EXPLAINED = frozenset({FaultKind.COUNTER_RESET, FaultKind.EXCHANGE_TIME_ADJUSTED, FaultKind.GLITCH})
# How many readings after a suspect one are looked at to decide whether it was a glitch.
LOOKAHEAD = 3


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """How to read one meter's cumulative register.

    `multiplier` turns raw counts into engineering units (CT ratio, pulse weight): raw × multiplier.
    `digits` (dial registers, wrap at 10^digits) or `bits` (binary counters, wrap at 2^bits) give the
    rollover range; neither means the register never wraps.

    `register_scale` is for readings already stored in engineering units (raw × CT ratio or pulse
    weight × unit conversion, as the store keeps them): the rollover then happens at
    10^digits × register_scale and a `MeterExchange`'s raw register values are scaled by it too. Build such
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
    columns: DeltaColumns = field(default_factory=DeltaColumns.empty)
    faults: tuple[CounterFault, ...] = field(default=())

    @property
    def deltas(self) -> tuple[Delta, ...]:
        """The deltas as objects (the interval builder takes `columns` directly)."""
        return self.columns.deltas()


def normalise(
    readings: Sequence[Reading], spec: CounterSpec, exchanges: Sequence[MeterExchange] = ()
) -> NormalisedSeries:
    """Validate time-ordered cumulative readings of one point and turn them into consumption deltas.

    Qualities: a delta is the worst of its two readings. A step bridged by a meter exchange is at best
    MANUAL (the technician wrote the values down). A controller restart counts the pulses since the
    restart as ESTIMATED: pulses between the previous reading and the power cut were lost with the
    volatile counter. Out-of-range and out-of-order readings are dropped before validation.
    """
    point_ids = {r.point_id for r in readings}
    if len(point_ids) > 1:
        raise ValueError(f"normalise takes readings of one point, got {sorted(point_ids)}")
    point_id = next(iter(point_ids), "")
    faults: list[CounterFault] = []
    clean = _Clean.of(readings, spec, faults)
    walk = _Walk(spec, sorted((e.scaled(spec.register_scale) for e in exchanges), key=lambda e: e.ts))
    runs: list[tuple[int, int]] = []  # steps j-1 → j for j in [start, stop): plain rises
    steps: list[tuple[int, int, float, int]] = []  # (from, to, value, quality rank) decided one by one
    readings_ = clean.readings
    if readings_:
        plain = _Plain(clean, spec, walk.exchanges)
        breaks = plain.breaks
        p, j = 0, 1
        while j < len(readings_):
            if p == j - 1 and plain.adjacent[j]:  # a run of the common case, decided on arrays
                k = int(breaks[np.searchsorted(breaks, j)]) if j <= breaks[-1] else len(readings_)
                runs.append((j, k))
                p, j = k - 1, k
                continue
            prev, cur = readings_[p], readings_[j]
            rise = plain.rise(p, j)
            if rise is not None:  # plain too, after readings skipped as glitches
                steps.append((p, j, rise * spec.multiplier, max(int(clean.ranks[p]), int(clean.ranks[j]))))
                p, j = j, j + 1
                continue
            step = walk.advance(prev, cur)
            if step is not None and not walk.is_spike(prev, cur, readings_[j + 1 : j + 3]):
                steps.append((p, j, *walk.accept(step, faults)))
                p, j = j, j + 1
                continue
            later = readings_[j + 1 : j + 1 + LOOKAHEAD]
            resume = next((k for k, r in enumerate(later) if walk.advance(prev, r) is not None), None)
            # A register never falls, so a drop is a glitch whenever the old course resumes. A rise
            # above the cap that the following readings carry on from is a real (if implausible) jump:
            # taking it for a glitch would drop every reading after it one by one.
            # (Carried on without a wrap: a garbage value near the top of the range would otherwise
            # "roll over" into the real course.)
            carried_on = (
                bool(later) and prev.value < cur.value <= later[0].value and walk.advance(cur, later[0]) is not None
            )
            if resume is not None and not carried_on:  # the course returns: the readings between were glitches
                for bad in readings_[j : j + 1 + resume]:
                    faults.append(_glitch(bad, prev))
                j += 1 + resume
                continue
            if not later:
                message = f"{_fmt(prev.value)} → {_fmt(cur.value)} breaks the course; not counted until confirmed"
                faults.append(_fault(cur, FaultKind.PROVISIONAL, message, prev.value))
                break
            if walk.advance(cur, later[0]) is None:  # nothing confirms either course: drop this one
                faults.append(_glitch(cur, prev))
                j += 1
                continue
            restart = walk.restart(prev, cur)
            if restart is not None:
                steps.append((p, j, *walk.accept(restart, faults)))
            else:
                faults.append(walk.unexplained(prev, cur))
            p, j = j, j + 1
    faults.extend(walk.unused_exchanges(readings_))
    columns = clean.columns(runs, steps, spec.multiplier)
    return NormalisedSeries(point_id, columns, tuple(sorted(faults, key=lambda f: f.ts)))


class _Clean:
    """The readings that are in range and in time order, with their instants, values and quality ranks as
    arrays. Out-of-range and out-of-order readings become faults here."""

    def __init__(self, readings: list[Reading], us: Ints, values: Floats, ranks: Ranks) -> None:
        self.readings, self.us, self.values, self.ranks = readings, us, values, ranks

    @classmethod
    def of(cls, readings: Sequence[Reading], spec: CounterSpec, faults: list[CounterFault]) -> _Clean:
        given = list(readings)
        us = microseconds([r.ts for r in given])
        values = np.fromiter((r.value for r in given), dtype=np.float64, count=len(given))
        wrap = spec.wrap
        with np.errstate(invalid="ignore"):
            in_range = np.isfinite(values) & (values >= 0)
            if wrap is not None:
                in_range &= values < wrap
        # In order: later than every earlier reading kept (kept instants rise, so their running maximum).
        earlier = np.maximum.accumulate(np.where(in_range, us, np.iinfo(np.int64).min))
        kept = in_range.copy()
        kept[1:] &= us[1:] > earlier[:-1]
        if not kept.all():
            cls._report(given, in_range, kept, wrap, faults)
            index = np.flatnonzero(kept)
            given, us, values = [given[i] for i in index.tolist()], us[index], values[index]
        qualities = [r.quality for r in given]
        if qualities.count(Quality.MEASURED) == len(qualities):
            ranks = np.zeros(len(given), dtype=np.int8)
        else:
            ranks = np.array([rank(q) for q in qualities], dtype=np.int8)
        return cls(given, us, values, ranks)

    @staticmethod
    def _report(
        given: list[Reading], in_range: Bools, kept: Bools, wrap: float | None, faults: list[CounterFault]
    ) -> None:
        last: Reading | None = None
        for i, cur in enumerate(given):
            before = last.value if last is not None else None
            if kept[i]:
                last = cur
            elif not in_range[i]:
                limit = f" (register range 0..{_fmt(wrap)})" if wrap is not None else ""
                faults.append(_fault(cur, FaultKind.OUT_OF_RANGE, f"value {_fmt(cur.value)}{limit}; ignored", before))
            else:
                assert last is not None  # a reading is out of order only after a kept one
                message = f"timestamp {cur.ts.isoformat()} not after {last.ts.isoformat()}; ignored"
                faults.append(_fault(cur, FaultKind.OUT_OF_ORDER, message, before))

    def columns(
        self, runs: list[tuple[int, int]], steps: list[tuple[int, int, float, int]], multiplier: float
    ) -> DeltaColumns:
        """The deltas of the plain runs and the steps decided one by one, in time order."""
        if not runs and not steps:
            return DeltaColumns.empty()
        ends = [np.arange(a, b) for a, b in runs]
        if steps:
            ends.append(np.array([s[1] for s in steps], dtype=np.int64))
        end = np.concatenate(ends)
        start = end - 1
        values = (self.values[end] - self.values[start]) * multiplier
        ranks = np.maximum(self.ranks[start], self.ranks[end])
        if steps:
            tail = slice(len(end) - len(steps), None)
            start[tail] = [s[0] for s in steps]
            values[tail] = [s[2] for s in steps]
            ranks[tail] = [s[3] for s in steps]
        order = np.argsort(end, kind="stable")
        start, end = start[order], end[order]
        return DeltaColumns(self.us[start], self.us[end], values[order], ranks[order])


class _Plain:
    """The plain case on arrays: a rise within the cap, the next reading rising within the cap too (so
    the reading cannot be a spike), and no exchange near. Anything else goes the full way (`_Walk`)."""

    def __init__(self, clean: _Clean, spec: CounterSpec, exchanges: Sequence[MeterExchange]) -> None:
        self.us, self.values = clean.us, clean.values
        per_hour = spec.max_plausible_delta
        self.cap_per_us = math.inf if per_hour is None else per_hour / 3600e6 / spec.multiplier
        self.min_span = _MIN_CAP_SPAN // _US
        tolerance = EXCHANGE_TIME_TOLERANCE // _US
        self.near_exchange = [((e.ts - EPOCH) // _US - tolerance, (e.ts - EPOCH) // _US + tolerance) for e in exchanges]
        n = len(self.values)
        rises = np.diff(self.values)
        fits = (rises >= 0) & (rises <= self.cap_per_us * np.maximum(np.diff(self.us), self.min_span))
        # adjacent[j]: the step j-1 → j is plain, and so is j → j+1 (the last reading has no next step)
        adjacent = np.zeros(n, dtype=bool)
        adjacent[1:] = fits
        adjacent[1:-1] &= fits[1:]
        for low, high in self.near_exchange:
            adjacent[1:] &= ~((low <= self.us[1:]) & (self.us[:-1] <= high))
        self.adjacent = adjacent
        self.breaks = np.flatnonzero(~adjacent)  # always holds 0

    def rise(self, p: int, j: int) -> float | None:
        """The rise p → j if it is plain (p need not be j - 1 after skipped glitches), else None."""
        values, us = self.values, self.us
        rise = float(values[j] - values[p])
        if rise < 0 or rise > self.cap_per_us * max(int(us[j] - us[p]), self.min_span):
            return None
        if j + 1 < len(values):
            after = float(values[j + 1] - values[j])
            if after < 0 or after > self.cap_per_us * max(int(us[j + 1] - us[j]), self.min_span):
                return None
        for low, high in self.near_exchange:
            if low <= us[j] and us[p] <= high:
                return None
        return rise


@dataclass(frozen=True, slots=True)
class _Step:
    start: Reading
    end: Reading
    raw: float  # consumption in register units before `multiplier`
    quality: Quality
    exchanges: tuple[MeterExchange, ...] = ()
    faults: tuple[CounterFault, ...] = ()


class _Walk:
    """The plausibility tests of one series, and which exchanges it has used."""

    def __init__(self, spec: CounterSpec, exchanges: list[MeterExchange]) -> None:
        self.spec = spec
        self.exchanges = exchanges
        self.used: set[int] = set()

    def advance(self, prev: Reading, cur: Reading) -> _Step | None:
        """The step prev → cur if it is a plausible continuation, else None."""
        quality = worst(prev.quality, cur.quality)
        inside = [i for i, e in enumerate(self.exchanges) if i not in self.used and prev.ts <= e.ts < cur.ts]
        if inside:
            bridged = self._bridge(prev, cur, inside, quality, adjusted=False)
            if bridged is not None:
                return bridged
        rise = cur.value - prev.value
        if rise >= 0 and self._plausible(rise, prev, cur):
            return _Step(prev, cur, rise, quality)
        wrap = self.spec.wrap
        window = self.spec.rollover_window
        if wrap is not None and prev.value >= (1 - window) * wrap and cur.value < window * wrap:
            through = (cur.value - prev.value) % wrap
            if self._plausible(through, prev, cur):
                return _Step(prev, cur, through, quality)
        if rise < 0:  # a drop near a written exchange time: the technician's clock was off
            near = [
                i
                for i, e in enumerate(self.exchanges)
                if i not in self.used
                and prev.ts - EXCHANGE_TIME_TOLERANCE <= e.ts < cur.ts + EXCHANGE_TIME_TOLERANCE
                and i not in inside
            ]
            for i in near:
                bridged = self._bridge(prev, cur, [i], quality, adjusted=True)
                if bridged is not None:
                    return bridged
        return None

    def is_spike(self, prev: Reading, cur: Reading, after: Sequence[Reading]) -> bool:
        """True when cur rose above the course: the next reading falls back to prev's course and the one
        after it does not return to cur's (else the next reading is the glitch, a dip)."""
        if len(after) < 2 or cur.value <= prev.value:
            return False
        nxt, then = after[0], after[1]
        falls_back = self.advance(cur, nxt) is None and self.advance(prev, nxt) is not None
        return falls_back and self.advance(cur, then) is None

    def restart(self, prev: Reading, cur: Reading) -> _Step | None:
        """A confirmed drop read as a pulse controller restart, counted from the low value."""
        spec = self.spec
        if not (spec.reset_detection and cur.value <= spec.reset_fraction * prev.value):
            return None
        if not self._plausible(cur.value, prev, cur):
            return None
        message = f"counter restarted: {_fmt(prev.value)} → {_fmt(cur.value)}; counted {_fmt(cur.value)} since restart"
        fault = _fault(cur, FaultKind.COUNTER_RESET, message, prev.value)
        return _Step(prev, cur, cur.value, worst(prev.quality, cur.quality, Quality.ESTIMATED), faults=(fault,))

    def unexplained(self, prev: Reading, cur: Reading) -> CounterFault:
        """The fault for a confirmed step that no rule explains: no consumption is counted for it."""
        if cur.value < prev.value:
            message = (
                f"register went backwards {_fmt(prev.value)} → {_fmt(cur.value)} and stayed there; no consumption"
                " counted (if the meter was exchanged, record it with replace-meter)"
            )
            return _fault(cur, FaultKind.BACKWARDS, message, prev.value)
        cap = self._cap(prev, cur)
        message = (
            f"{_fmt(prev.value)} → {_fmt(cur.value)} in {cur.ts - prev.ts} exceeds the plausible {_fmt(cap)}"
            " for this meter; not counted"
        )
        return _fault(cur, FaultKind.IMPLAUSIBLE, message, prev.value)

    def accept(self, step: _Step, faults: list[CounterFault]) -> tuple[float, int]:
        """Use the step: its consumption and quality rank."""
        for exchange in step.exchanges:
            self.used.add(self.exchanges.index(exchange))
        faults.extend(step.faults)
        value = step.raw * self.spec.multiplier  # scaled after differencing: no precision lost on totals
        return value, rank(step.quality)

    def unused_exchanges(self, clean: Sequence[Reading]) -> list[CounterFault]:
        """Exchanges inside the readings' span that no step could use: they contradict the readings."""
        if len(clean) < 2:
            return []
        faults = []
        for i, exchange in enumerate(self.exchanges):
            if i in self.used or not clean[0].ts <= exchange.ts < clean[-1].ts:
                continue
            before = max((r for r in clean if r.ts <= exchange.ts), key=lambda r: r.ts)
            message = (
                f"exchange at {exchange.ts.isoformat()} (old final {_fmt(exchange.old_final)}, new initial"
                f" {_fmt(exchange.new_initial)}) does not fit the readings around it (last before it"
                f" {_fmt(before.value)} at {before.ts.isoformat()}); not applied — check its time and values"
            )
            kind = FaultKind.REPLACEMENT_MISMATCH
            faults.append(CounterFault(exchange.ts, kind, message, before.value, before.value))
        return faults

    def _bridge(
        self, prev: Reading, cur: Reading, indices: list[int], quality: Quality, *, adjusted: bool
    ) -> _Step | None:
        # (old final − old previous) + (new current − new initial), chained over several exchanges.
        raw, start = 0.0, prev.value
        chosen = tuple(self.exchanges[i] for i in indices)
        for exchange in chosen:
            moved = self._forward(start, exchange.old_final)
            if moved is None:
                return None
            raw += moved
            start = exchange.new_initial
        moved = self._forward(start, cur.value)
        if moved is None:
            return None
        raw += moved
        if not self._plausible(raw, prev, cur):
            return None
        faults: tuple[CounterFault, ...] = ()
        if adjusted:
            written = chosen[0].ts.isoformat()
            message = f"exchange written at {written} applied to the step where the register changed meters"
            faults = (_fault(cur, FaultKind.EXCHANGE_TIME_ADJUSTED, message, prev.value),)
        return _Step(prev, cur, raw, worst(quality, Quality.MANUAL), chosen, faults)

    def _forward(self, start: float, end: float) -> float | None:
        """How far a register moved from `start` to `end`: a rise, or a wrap near the top of its range."""
        if end >= start:
            return end - start
        wrap, window = self.spec.wrap, self.spec.rollover_window
        if wrap is not None and start >= (1 - window) * wrap and end < window * wrap:
            return (end - start) % wrap
        return None

    def _plausible(self, raw: float, prev: Reading, cur: Reading) -> bool:
        return raw * self.spec.multiplier <= self._cap(prev, cur)

    def _cap(self, prev: Reading, cur: Reading) -> float:
        cap = _cap(self.spec, cur.ts - prev.ts)
        return math.inf if cap is None else cap


def _cap(spec: CounterSpec, span: timedelta) -> float | None:
    if spec.max_plausible_delta is None:
        return None
    return spec.max_plausible_delta * max(span, _MIN_CAP_SPAN) / timedelta(hours=1)


def _glitch(bad: Reading, good: Reading) -> CounterFault:
    message = (
        f"transient reading {_fmt(bad.value)} at {bad.ts.isoformat()} (course {_fmt(good.value)}"
        " resumes after it); ignored, nothing counted for it"
    )
    return _fault(bad, FaultKind.GLITCH, message, good.value)


def _fmt(value: float | None) -> str:
    return "?" if value is None else format_register(round(value, 9) if math.isfinite(value) else value)


def _fault(cur: Reading, kind: FaultKind, message: str, before: float | None) -> CounterFault:
    return CounterFault(cur.ts, kind, message, before, cur.value)
