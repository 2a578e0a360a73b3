"""What a simulated Modbus meter holds in its registers at a given instant, from the load model.

Pure (no I/O, no clock). A meter's registers hold what the real instrument would: energy, power and
current *before* the CT ratio (`multiplier`) the poller applies, pulse counters as whole pulses
(volume / pulse weight), wrapping where the register does. `poller_value` runs the registers through
`metering.decoding` exactly as the poller does, so simulated history equals what polling would store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bms_bridge.simulate.load_model import LoadModel
from metering.decoding import decode, encode
from metering.read_plan import plan_profile_reads
from point_mapping.model import Device, Meter, MeterProfile, SiteModel
from point_mapping.model.profiles import RegisterSpec
from point_mapping.registers import point_measure
from point_mapping.units import convert, unit_info

# Quantities a current transformer scales (cf. point_mapping.registers): divided by the CT ratio here.
_CT_SCALED = frozenset(
    {"energy", "power", "current", "reactive_energy", "apparent_energy", "reactive_power", "apparent_power"}
)


@dataclass(frozen=True)
class RegisterBlock:
    """Consecutive registers of one function code (3 holding, 4 input), as one planned read covers them."""

    function_code: int
    address: int
    words: list[int]


class MeterRegisters:
    """Register images of the Modbus devices of a site, filled from a load model."""

    def __init__(self, site: SiteModel, profiles: Mapping[str, MeterProfile], model: LoadModel) -> None:
        self.site = site
        self.profiles = profiles
        self.model = model
        # device id -> register name -> the meter it measures (None: an unused channel)
        self._owners: dict[str, dict[str, Meter | None]] = {}
        for device in site.devices:
            if device.profile is None:
                continue
            meters = site.meters_of_device(device.id)
            by_register: dict[str, Meter | None] = {}
            for meter in meters:
                for point in site.points_of_meter(meter.id):
                    if point.register_name is not None:
                        by_register[point.register_name] = meter
            sole = meters[0] if len(meters) == 1 else None
            profile = profiles[device.profile]
            self._owners[device.id] = {name: by_register.get(name, sole) for name in profile.registers}

    def profile_of(self, device: Device) -> MeterProfile:
        assert device.profile is not None
        return self.profiles[device.profile]

    def value(self, device: Device, name: str, t: datetime) -> float | None:
        """The value register `name` of `device` holds at t, in the register's own unit (None: not available)."""
        spec = self.profile_of(device).registers[name]
        meter = self._owners[device.id].get(name)
        if meter is None:
            return 0.0 if spec.unit == "pulses" else None
        if spec.unit == "pulses":
            return self._pulses(meter, spec, t)
        physical = self._physical(meter, name, t)
        if physical is None:
            return None
        value, unit = physical
        if unit_info(unit).quantity.value in _CT_SCALED:
            value /= meter.multiplier
        return convert(value, unit, spec.unit)

    def _pulses(self, meter: Meter, spec: RegisterSpec, t: datetime) -> float:
        total = self.model.meter_total(meter.id, t)
        if meter.pulse_weight is None:
            return 0.0
        weight = meter.pulse_weight
        in_weight_unit = convert(total, meter.resource.billing_unit, weight.unit)
        wrap = 2 ** (16 * spec.register_count)
        return float(math.floor(in_weight_unit / weight.value + 1e-9) % wrap)

    def _physical(self, meter: Meter, name: str, t: datetime) -> tuple[float, str] | None:
        """True (primary side) value of a canonical register and its unit."""
        if name in ("active_energy_import", "active_energy_total"):
            return self.model.meter_total(meter.id, t), "kWh"
        if name == "reactive_energy_import":
            # a fixed tan(phi) keeps the reactive register monotonic
            return 0.33 * self.model.meter_total(meter.id, t), "kvarh"
        if name in ("active_energy_export", "reactive_energy_export"):
            return 0.0, "kWh" if name.startswith("active") else "kvarh"
        electrical = self.model.electrical(meter.id, t)
        if name == "active_power":
            return electrical.power_kw, "kW"
        if name == "reactive_power":
            return electrical.power_kw * electrical.reactive_ratio * 1000.0, "var"
        if name == "power_factor":
            return electrical.power_factor, "PF"
        if name == "frequency":
            return electrical.frequency, "Hz"
        for prefix, values, unit in (("voltage_l", electrical.voltages, "V"), ("current_l", electrical.currents, "A")):
            if name.startswith(prefix) and name[len(prefix) :].isdigit():
                phase = int(name[len(prefix) :]) - 1
                return (values[phase], unit) if phase < len(values) else (0.0, unit)
        return None

    def words(self, device: Device, name: str, t: datetime) -> list[int]:
        profile = self.profile_of(device)
        spec = profile.registers[name]
        byte_order, word_order = profile.orders(name)
        value = self.value(device, name, t)
        if value is None and not spec.sentinels and spec.data_type not in ("float32", "float64"):
            value = 0.0  # an integer register with no "not available" pattern reads 0
        return encode(spec, value, byte_order=byte_order, word_order=word_order)

    def blocks(self, device: Device, t: datetime) -> list[RegisterBlock]:
        """Every register of the device's profile, grouped as the read plan reads them (gaps are 0)."""
        found: list[RegisterBlock] = []
        for block in plan_profile_reads(self.profile_of(device)):
            words = [0] * block.count
            for name, spec in block.members:
                at = spec.address - block.address
                words[at : at + spec.register_count] = self.words(device, name, t)
            found.append(RegisterBlock(block.function_code, block.address, words))
        return found

    def poller_value(self, point_id: str, t: datetime) -> float:
        """The value the poller stores for a Modbus point at t: decoded, scaled, in the point's unit."""
        point = self.site.point_by_id[point_id]
        meter = self.site.meter_by_id[point.meter or ""]
        device = self.site.device_by_id[meter.device]
        name = point.register_name or ""
        profile = self.profile_of(device)
        byte_order, word_order = profile.orders(name)
        raw = decode(profile.registers[name], self.words(device, name, t), byte_order=byte_order, word_order=word_order)
        measure = point_measure(self.site, point, self.profiles)
        if raw is None or measure is None:
            raise ValueError(f"point {point_id} has no value in the simulation")
        return convert(raw * measure.multiplier, measure.source_unit, measure.unit)
