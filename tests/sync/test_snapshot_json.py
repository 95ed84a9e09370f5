"""`snapshots.to_json` writes a snapshot field by field: it must give exactly what the generic
definition gives (`asdict`, then a JSON round trip with Decimals as strings), for every field
of every snapshot class, so a field added to a snapshot cannot be forgotten."""

import json
from dataclasses import MISSING, asdict, fields
from decimal import Decimal
from typing import Any

from cowans.catalog.snapshot import (
    ImageSnapshot,
    MetafieldSnapshot,
    ProductSnapshot,
    VariantSnapshot,
)
from cowans.sync import snapshots


def by_definition(snapshot: ProductSnapshot) -> dict[str, Any]:
    def plain(value: Any) -> str:
        assert isinstance(value, Decimal)
        return str(value)

    return json.loads(json.dumps(asdict(snapshot), default=plain))


def full_snapshot() -> ProductSnapshot:
    """Every field set to something other than its default."""
    return ProductSnapshot(
        handle="stapler-1",
        title="Stapler «Deluxe»",
        body_html="<p>Staples 20 sheets</p>",
        vendor="Acme",
        product_type="Staplers",
        tags=("office", "metal"),
        status="draft",
        seo_title="Stapler",
        seo_description="A stapler",
        option_names=("Pack",),
        variants=(
            VariantSnapshot(
                sku="ACM-1",
                price=Decimal("10.50"),
                compare_at_price=Decimal("12"),
                barcode="0123",
                inventory_policy="continue",
                option_values=("Pack of 6",),
                weight_grams=Decimal("250.000"),
                taxable=False,
                inventory={"Main": 5, "West": 0},
            ),
            VariantSnapshot(sku="ACM-2"),
        ),
        images=(ImageSnapshot("https://img.example/1.jpg", "front"), ImageSnapshot("https://x/2")),
        metafields=(
            MetafieldSnapshot("custom", "color", "list.single_line_text_field", '["Red"]'),
        ),
        collections=("Staplers",),
    )


def test_every_field_is_written_as_the_definition_writes_it() -> None:
    snapshot = full_snapshot()
    for instance in (snapshot, snapshot.variants[0], snapshot.images[0], snapshot.metafields[0]):
        for spec in fields(instance):
            if spec.default is not MISSING:
                default = spec.default
            elif spec.default_factory is not MISSING:
                default = spec.default_factory()
            else:
                continue  # required: set anyway
            assert getattr(instance, spec.name) != default, spec.name  # every field is set
    assert snapshots.to_json(snapshot) == by_definition(snapshot)
    assert list(snapshots.to_json(snapshot)) == list(by_definition(snapshot))


def test_a_bare_snapshot_and_the_round_trip() -> None:
    bare = ProductSnapshot(handle="h", title="t")
    assert snapshots.to_json(bare) == by_definition(bare)
    full = full_snapshot()
    assert snapshots.from_json(snapshots.to_json(full)) == full
