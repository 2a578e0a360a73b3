from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from metering.events import Acknowledgement, EvidenceSample
from metering.store import Event, Store
from metering.trends import TrendKind, TrendSample

T0 = datetime(2024, 4, 8, 7, tzinfo=UTC)
H = timedelta(hours=1)


def _finding(**extra: object) -> Event:
    base: dict[str, object] = {
        "kind": "hvac.simultaneous_heating_cooling",
        "subject": "ahu-a",
        "severity": "warning",
        "started_at": T0,
        "title": "AHU A heats and cools at once",
        "dedup_key": "hvac.shc:ahu-a:2024-04-08T07",
        "equipment": "ahu-a",
        "zone": "A",
        "tenants": ("arcplan", "berger-law"),
        "evidence": (EvidenceSample(T0, {"ahu-a.heating-valve": 40.0, "ahu-a.cooling-valve": 35.0}),),
        "energy": 120.5,
        "energy_unit": "kWh",
        "cost_exact": Decimal("17.1110"),
        "currency": "EUR",
    }
    base.update(extra)
    return Event(**base)  # type: ignore[arg-type]


async def test_finding_round_trips_with_exact_cost(store: Store) -> None:
    event_id = await store.add_event(_finding())
    [stored] = await store.events()
    assert stored.id == event_id
    assert stored.cost_exact == Decimal("17.1110") and stored.cost == 17.111
    assert stored.tenants == ("arcplan", "berger-law")
    assert stored.evidence[0].values == {"ahu-a.cooling-valve": 35.0, "ahu-a.heating-valve": 40.0}
    assert stored.evidence[0].ts == T0
    assert (stored.equipment, stored.zone, stored.acknowledgement) == ("ahu-a", "A", None)


async def test_plain_event_still_works_as_before(store: Store) -> None:
    plain = Event(kind="night_flow", subject="wc.cw", severity="alarm", started_at=T0, title="leak", dedup_key="k")
    await store.add_event(plain)
    assert await store.end_event("k", T0 + H)
    [stored] = await store.events()
    assert (stored.tenants, stored.evidence, stored.cost_exact, stored.ended_at) == ((), (), None, T0 + H)


async def test_acknowledge_keeps_the_finding_open_and_update_keeps_the_ack(store: Store) -> None:
    event_id = await store.add_event(_finding())
    ack = Acknowledgement("j.weber", T0 + H, "valve actuator A-H1 sticks, ticket 4711")
    assert await store.acknowledge_event(event_id, ack)
    assert not await store.acknowledge_event(event_id + 100, ack)
    grown = _finding(energy=200.0, cost_exact=Decimal("28.40"), acknowledgement=None)
    assert await store.update_finding(grown)
    [stored] = await store.open_events(kind_prefix="hvac.")
    assert stored.acknowledgement == ack
    assert (stored.energy, stored.cost_exact) == (200.0, Decimal("28.40"))
    assert await store.update_finding(_finding(ended_at=T0 + 5 * H))
    assert await store.open_events() == []
    assert not await store.update_finding(_finding())  # closed findings are not reopened


async def test_open_events_by_kind_prefix_escapes_wildcards(store: Store) -> None:
    await store.add_event(_finding())
    await store.add_event(_finding(kind="night_flow", dedup_key="other"))
    assert [e.kind for e in await store.open_events(kind_prefix="hvac.")] == ["hvac.simultaneous_heating_cooling"]
    assert await store.open_events(kind_prefix="hvac%") == []


async def test_trends_are_typed_and_first_value_wins(store: Store) -> None:
    samples = [
        TrendSample("ahu-a.fan", T0, TrendKind.BINARY, 1.0),
        TrendSample("ahu-a.mode", T0, TrendKind.MULTISTATE, 3.0),
        TrendSample("ahu-a.heating-valve", T0, TrendKind.ANALOG, 42.5),
    ]
    assert await store.insert_trends(samples) == 3
    assert await store.insert_trends([TrendSample("ahu-a.fan", T0, TrendKind.BINARY, 0.0)]) == 0
    [fan] = await store.trends("ahu-a.fan", T0, T0 + H)
    assert fan.typed is True
    [mode] = await store.trends("ahu-a.mode", T0, T0 + H)
    assert mode.typed == 3
    assert await store.trend_points() == ["ahu-a.fan", "ahu-a.heating-valve", "ahu-a.mode"]
