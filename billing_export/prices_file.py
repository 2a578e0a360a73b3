"""Reads the dynamic price CSVs that tariffs name (`prices_csv`, relative to the site folder)."""

from __future__ import annotations

from pathlib import Path

from billing_export.pricing import DynamicPrices, parse_price_csv
from point_mapping.model import SiteModel


def load_dynamic_prices(site: SiteModel, site_dir: Path) -> dict[str, DynamicPrices]:
    """Prices per tariff id; every version's CSV of a tariff is merged into one table."""
    result: dict[str, DynamicPrices] = {}
    for tariff in site.tariffs:
        for _, _, terms in tariff.terms():
            if terms.prices_csv is None:
                continue
            path = site_dir / terms.prices_csv
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise ValueError(f"tariff {tariff.id}: cannot read prices_csv {path}: {error.strerror}") from None
            parsed = parse_price_csv(text, str(path))
            table = result.setdefault(tariff.id, DynamicPrices())
            for zone, starts in parsed.starts.items():
                for start, price in zip(starts, parsed.prices[zone], strict=True):
                    table.add(zone, start, price)
    return result
