"""Soak: the service on a generated site of N points polled every minute, for minutes, with memory sampled.

    python -m benchmarks.soak --points 5000 --minutes 10        # issue 13; not part of `make test`

The site (benchmarks/soak_site.py) is the demo's office floors scaled up: SDM630 breaker meters on
Modbus TCP, one loopback port per floor, served by the simulator in a child process
(benchmarks/soak_meters.py) that counts every block it answers. The real `Service` runs here: pollers,
the one writer into SQLite, the exposure feed, the BACnet/IP and OPC UA servers (free loopback ports),
status and interval refreshes. Checked, each with its figure in the report:

- memory: this process's RSS every --sample-every seconds; after the warm-up (default a third of the
  run) the level at the end (mean of the last 3 samples) may exceed the level after warm-up (mean of
  the first 3) by at most --tolerance-mib;
- nothing lost: for every point, readings stored = blocks the simulator answered for its register;
- on time: every poll cycle's readings handed on within --late-after seconds (default a quarter of the
  interval) of its slot (start of the device's first cycle + k × interval), no slot skipped or missing;
- servers: RSS added by starting the BACnet and OPC UA servers with every point (whole-process RSS
  before and after, after a gc) within --servers-limit-mib. The service module imports bacpypes3 and
  asyncua before that; what importing them costs is measured apart, in a fresh interpreter, and shown.

Exit 0 when all hold, 1 otherwise; --json PATH writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.soak_site import SoakSite, write_site
from bms_bridge import service as service_module
from bms_bridge.exposure.feed import ExposureFeed
from bms_bridge.exposure.points import ExposedPoint
from bms_bridge.modbus.device_poller import device_plan
from bms_bridge.service import ReadingHub, Service, ServiceOptions
from bms_bridge.sites import open_site
from metering.readings import Reading
from metering.store import Store
from point_mapping.loader import LoadedSite
from point_mapping.model import ModbusTcpConnection

MIB = 2**20


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


@dataclass
class Cycles:
    """Poll cycles as the readings arrive: on time or late, per device, in constant memory."""

    interval: float
    late_after: float
    point_device: dict[str, str]
    first: dict[str, datetime] = field(default_factory=dict)
    last_slot: dict[str, int] = field(default_factory=dict)
    last_ts: dict[str, datetime] = field(default_factory=dict)
    cycles: int = 0
    late: int = 0
    skipped: int = 0
    worst_lateness: float = 0.0
    worst_start_delay: float = 0.0  # the scheduler's share: cycle start (reading ts) after its slot
    round_finish: dict[int, float] = field(default_factory=dict)  # slot -> latest hand-on after the slot, s
    readings: Counter[str] = field(default_factory=Counter)
    last_arrival: float = 0.0  # time.monotonic() of the latest reading

    def on_readings(self, readings: list[Reading]) -> None:
        now = datetime.now(UTC)
        self.last_arrival = time.monotonic()
        for reading in readings:
            self.readings[reading.point_id] += 1
            device = self.point_device[reading.point_id]
            if self.last_ts.get(device) == reading.ts:
                continue
            self.last_ts[device] = reading.ts
            self.cycles += 1
            first = self.first.setdefault(device, reading.ts)
            slot = round((reading.ts - first).total_seconds() / self.interval)
            previous = self.last_slot.get(device)
            if previous is not None and slot > previous + 1:
                self.skipped += slot - previous - 1
            self.last_slot[device] = slot
            lateness = (now - first).total_seconds() - slot * self.interval
            self.worst_lateness = max(self.worst_lateness, lateness)
            start_delay = (reading.ts - first).total_seconds() - slot * self.interval
            self.worst_start_delay = max(self.worst_start_delay, start_delay)
            self.round_finish[slot] = max(self.round_finish.get(slot, 0.0), lateness)
            if lateness > self.late_after:
                self.late += 1


def counting_hub(cycles: Cycles) -> type[ReadingHub]:
    class CountingHub(ReadingHub):
        """The service's hub, noting each reading on its way to the writer and the exposure feed."""

        async def put_many(self, readings: list[Reading]) -> None:
            cycles.on_readings(readings)
            await super().put_many(readings)

    return CountingHub


class MeasuredService(Service):
    """The service, with whole-process RSS taken just before and after its BACnet and OPC UA servers start."""

    servers_added_mib: float = 0.0

    async def _start_exposure(
        self, stack: contextlib.AsyncExitStack, store: Store, feed: ExposureFeed, points: list[ExposedPoint]
    ) -> None:
        gc.collect()
        before = rss_mib()
        await super()._start_exposure(stack, store, feed, points)
        await asyncio.sleep(0)  # let the objects' post-init tasks run
        gc.collect()
        self.servers_added_mib = rss_mib() - before


class WarningCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()}"[:200])


class Meters:
    """The simulator child process and its counts."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, folder: Path, within: float) -> Meters:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.soak_meters",
            str(folder),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        meters = cls(process)
        try:
            await asyncio.wait_for(meters._line("ready"), within)
        except BaseException:
            await meters.stop()
            raise
        return meters

    async def _line(self, key: str) -> Any:
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"simulated meters exited (code {await self.process.wait()})")
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if isinstance(message, dict) and key in message:
                    return message[key]

    async def served(self) -> list[dict[str, Any]]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"count\n")
        await self.process.stdin.drain()
        return list(await self._line("served"))

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


LIBRARY_PROBE = """
import gc, os
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
import metering.store, bms_bridge.modbus.acquisition, point_mapping.loader
gc.collect(); before = rss()
import bacpypes3.app, asyncua.server
gc.collect(); print((rss() - before) / 2**20)
"""


async def library_cost() -> float:
    """MiB a fresh interpreter with the rest of the service loaded adds by importing bacpypes3 and asyncua."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", LIBRARY_PROBE, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return float(out.decode().strip() or "nan")


def served_per_point(site: LoadedSite, served: list[dict[str, Any]]) -> dict[str, int]:
    """Readings the simulator's answers carried, per point: its register's block, times answered."""
    answered: Counter[tuple[int, int, int, int, int]] = Counter()
    for port in served:
        for unit, function, address, count, n in port["requests"]:
            answered[(port["port"], unit, function, address, count)] += n
    points_of: dict[str, list[tuple[str, str]]] = {}
    for point in site.model.points:
        if point.meter is not None and point.register_name is not None:
            device = site.model.meter_by_id[point.meter].device
            points_of.setdefault(device, []).append((point.id, point.register_name))
    result: dict[str, int] = {}
    for device in site.model.devices:
        connection = device.connection
        if not isinstance(connection, ModbusTcpConnection):
            continue
        for block in device_plan(site.model, device, site.profiles):
            names = {name for name, _ in block.members}
            n = answered[(connection.port, connection.unit, block.function_code, block.address, block.count)]
            for point_id, register in points_of.get(device.id, []):
                if register in names:
                    result[point_id] = n
    return result


@dataclass
class Report:
    points: int
    meters: int
    ports: int
    minutes: float
    poll_interval_s: float
    simulator_start_s: float
    service_start_s: float
    rss_before_service_mib: float
    server_libraries_mib: float
    servers_added_mib: float
    servers_limit_mib: float
    warm_up_s: float
    rss_after_warm_up_mib: float
    rss_at_end_mib: float
    rss_min_mib: float
    rss_max_mib: float
    growth_mib: float
    growth_per_hour_mib: float
    tolerance_mib: float
    cycles: int
    cycles_expected: int
    late_cycles: int
    missing_cycles: int
    skipped_slots: int
    worst_lateness_s: float
    worst_start_delay_s: float
    median_round_s: float
    late_after_s: float
    served_readings: int
    handed_on_readings: int
    stored_readings: int
    lost_readings: int
    points_short: int
    served_during_stop: int
    exceptions_served: int
    warnings_logged: int
    first_warnings: list[str]
    samples: list[tuple[float, float]]
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


def judge(report: Report) -> list[str]:
    failures = []
    if report.growth_mib > report.tolerance_mib:
        failures.append(
            f"memory grew {report.growth_mib:.1f} MiB after warm-up (tolerance {report.tolerance_mib:g} MiB)"
        )
    if report.lost_readings or report.points_short:
        failures.append(f"{report.lost_readings} readings lost ({report.points_short} points short)")
    if report.stored_readings == 0:
        failures.append("no reading stored")
    if report.late_cycles or report.skipped_slots or report.missing_cycles:
        failures.append(
            f"{report.late_cycles} late cycles, {report.skipped_slots} skipped slots, "
            f"{report.missing_cycles} cycles missing"
        )
    if report.servers_added_mib > report.servers_limit_mib:
        failures.append(
            f"BACnet + OPC UA servers took {report.servers_added_mib:.0f} MiB (limit {report.servers_limit_mib:g})"
        )
    return failures


def print_report(r: Report) -> None:
    verdict = "PASS" if r.ok else "FAIL"
    print(f"\nsoak: {r.points:,} points ({r.meters} SDM630 meters on {r.ports} Modbus TCP ports), polled every")
    print(f"{r.poll_interval_s:g} s for {r.minutes:g} min, exposed over BACnet/IP and OPC UA; simulator ready in ")
    print(f"{r.simulator_start_s:.0f} s (own process), service started in {r.service_start_s:.1f} s")
    rows = [
        ("RSS before the service", f"{r.rss_before_service_mib:.1f} MiB", ""),
        (
            "BACnet + OPC UA servers started (RSS added)",
            f"{r.servers_added_mib:.1f} MiB",
            f"≤ {r.servers_limit_mib:g} MiB, {r.servers_added_mib * 1024 / r.points:.1f} KiB per point",
        ),
        ("importing bacpypes3 + asyncua (fresh interpreter)", f"{r.server_libraries_mib:.1f} MiB", "not judged"),
        (f"RSS after warm-up ({r.warm_up_s:.0f} s)", f"{r.rss_after_warm_up_mib:.1f} MiB", ""),
        ("RSS at the end", f"{r.rss_at_end_mib:.1f} MiB", f"min {r.rss_min_mib:.1f}, max {r.rss_max_mib:.1f}"),
        (
            "growth after warm-up",
            f"{r.growth_mib:+.1f} MiB ({r.growth_per_hour_mib:+.1f} MiB/h)",
            f"≤ {r.tolerance_mib:g} MiB",
        ),
        ("poll cycles", f"{r.cycles:,} of {r.cycles_expected:,} slots", f"missing {r.missing_cycles}"),
        (
            "late cycles / skipped slots",
            f"{r.late_cycles} / {r.skipped_slots}",
            f"late: handed on > {r.late_after_s:g} s after its slot; worst {r.worst_lateness_s:.2f} s",
        ),
        (
            "a round of every meter, done after",
            f"{r.median_round_s:.2f} s median",
            f"worst {r.worst_lateness_s:.2f} s; cycle starts at most {r.worst_start_delay_s:.3f} s after their slot",
        ),
        ("readings served by the meters", f"{r.served_readings:,}", ""),
        ("readings handed on by the pollers", f"{r.handed_on_readings:,}", ""),
        ("readings stored", f"{r.stored_readings:,}", f"lost {r.lost_readings}, points short {r.points_short}"),
        ("Modbus exceptions served / requests during stop", f"{r.exceptions_served} / {r.served_during_stop}", ""),
        ("warnings logged", f"{r.warnings_logged}", "; ".join(r.first_warnings)[:120]),
    ]
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<{value_width}}  {note}".rstrip())
    print(f"{verdict}" + (": " + "; ".join(r.failures) if r.failures else ""))


async def soak(args: argparse.Namespace, folder: Path) -> Report:
    interval = args.poll_interval
    duration = args.minutes * 60
    warm_up = args.warm_up * 60 if args.warm_up is not None else duration / 3
    layout: SoakSite = write_site(folder / "site", args.points, timedelta(seconds=interval))
    site = open_site(layout.folder)
    point_device = {p.id: site.model.meter_by_id[p.meter].device for p in site.model.points if p.meter is not None}
    cycles = Cycles(interval, args.late_after if args.late_after is not None else interval / 4, point_device)
    warnings = WarningCount()
    logging.getLogger().addHandler(warnings)

    started = time.monotonic()
    meters = await Meters.start(layout.folder, within=1800)
    simulator_start = time.monotonic() - started
    db_url = f"sqlite:///{folder / 'soak.db'}"
    samples: list[tuple[float, float]] = []
    # Service builds its hub inside running(): the soak's counting hub stands in for it, and goes after.
    service_module.ReadingHub = counting_hub(cycles)  # type: ignore[misc]
    try:
        libraries = await library_cost()
        gc.collect()
        rss_before = rss_mib()
        service = MeasuredService(site, db_url, ServiceOptions(simulate=False))
        t0 = time.monotonic()
        async with service.running():
            service_start = time.monotonic() - t0
            began = time.monotonic()

            async def sample() -> None:
                while True:
                    samples.append((time.monotonic() - began, rss_mib()))
                    await asyncio.sleep(args.sample_every)

            sampler = asyncio.create_task(sample())
            await asyncio.sleep(duration)
            # Stop halfway between two cycles, so no cycle is cut short by the stop.
            phase = (time.monotonic() - began) % interval
            await asyncio.sleep((interval / 2 - phase) % interval)
            samples.append((time.monotonic() - began, rss_mib()))
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            served_before_stop = await meters.served()
            ran = time.monotonic() - began
        served = await meters.served()
    finally:
        service_module.ReadingHub = ReadingHub  # type: ignore[misc]
        logging.getLogger().removeHandler(warnings)
        await meters.stop()

    stored: dict[str, int] = {}
    async with Store.open(db_url) as store:
        for point_id in point_device:
            stored[point_id] = await store.reading_count(point_id)
    expected = served_per_point(site, served)
    lost = sum(max(0, expected.get(p, 0) - stored.get(p, 0)) for p in point_device)
    short = sum(1 for p in point_device if stored.get(p, 0) < expected.get(p, 0))

    after = [rss for t, rss in samples if t >= warm_up] or [samples[-1][1]]
    level_start = statistics.fmean(after[:3])
    level_end = statistics.fmean(after[-3:])
    span_h = max((ran - warm_up) / 3600, 1e-9)
    report = Report(
        points=layout.points,
        meters=layout.meters,
        ports=len(layout.ports),
        minutes=args.minutes,
        poll_interval_s=interval,
        simulator_start_s=simulator_start,
        service_start_s=service_start,
        rss_before_service_mib=rss_before,
        server_libraries_mib=libraries,
        servers_added_mib=service.servers_added_mib,
        servers_limit_mib=args.servers_limit_mib,
        warm_up_s=warm_up,
        rss_after_warm_up_mib=level_start,
        rss_at_end_mib=level_end,
        rss_min_mib=min(rss for _, rss in samples),
        rss_max_mib=max(rss for _, rss in samples),
        growth_mib=level_end - level_start,
        growth_per_hour_mib=(level_end - level_start) / span_h,
        tolerance_mib=args.tolerance_mib,
        cycles=cycles.cycles,
        cycles_expected=layout.meters * (int(ran // interval) + 1),
        late_cycles=cycles.late,
        missing_cycles=max(0, layout.meters * (int(ran // interval) + 1) - cycles.cycles),
        skipped_slots=cycles.skipped,
        worst_lateness_s=cycles.worst_lateness,
        worst_start_delay_s=cycles.worst_start_delay,
        median_round_s=statistics.median(cycles.round_finish.values()) if cycles.round_finish else 0.0,
        late_after_s=cycles.late_after,
        served_readings=sum(expected.values()),
        handed_on_readings=sum(cycles.readings.values()),
        stored_readings=sum(stored.values()),
        lost_readings=lost,
        points_short=short,
        served_during_stop=sum(p["responses"] for p in served) - sum(p["responses"] for p in served_before_stop),
        exceptions_served=sum(p["exceptions"] for p in served),
        warnings_logged=warnings.count,
        first_warnings=warnings.first,
        samples=[(round(t, 1), round(rss, 2)) for t, rss in samples],
        failures=[],
    )
    report.failures = judge(report)
    return report


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=10.0, help="measured run after the service started")
    parser.add_argument("--poll-interval", type=float, default=60.0, help="seconds between a meter's polls")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--warm-up", type=float, default=None, help="minutes not judged (default: a third)")
    parser.add_argument("--tolerance-mib", type=float, default=10.0, help="RSS growth allowed after warm-up")
    parser.add_argument("--servers-limit-mib", type=float, default=250.0, help="BACnet + OPC UA servers")
    parser.add_argument("--late-after", type=float, default=None, help="seconds (default: a quarter of the interval)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--keep", type=Path, default=None, help="build the site and database here, keep them")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("pymodbus", "asyncua", "bacpypes3"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            folder = args.keep
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bms-soak-")))
        report = asyncio.run(soak(args, folder))
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report) | {"ok": report.ok}, indent=1), encoding="utf-8")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
