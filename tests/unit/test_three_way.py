"""The three-way comparison, field by field: who changed what since the base decides."""

from datetime import UTC, datetime
from decimal import Decimal

from cowans.catalog.snapshot import ImageSnapshot, ProductSnapshot, VariantSnapshot
from cowans.shopify.products import RemoteImage, RemoteProduct, RemoteVariant, Weight
from cowans.sync.three_way import remote_snapshot, three_way

BASE = {
    "title": "Stapler",
    "variants.S-1.price": "10",
    "variants.S-1.inventory.Main": 5,
    "variants.S-1.inventory.Nowhere": 3,
    "collections": ["Staplers"],
}


def test_who_changed_a_field_decides_what_happens() -> None:
    local = {**BASE, "title": "Stapler (ours)", "variants.S-1.price": "11"}
    remote = {
        **BASE,
        "title": "Stapler (theirs)",  # both, differently: a conflict
        "variants.S-1.price": "11",  # both, the same: confirmed
        "variants.S-1.inventory.Main": 4,  # Shopify alone, stock: confirmed
        "collections": ["Sale"],  # Shopify alone, derived in the catalog: left alone
        "vendor": "Acme",  # Shopify alone: a pull change
    }
    result = three_way(BASE, local, remote)
    assert result.conflicts == {
        "title": {"old": "Stapler", "new": "Stapler (ours)", "remote": "Stapler (theirs)"}
    }
    assert result.confirmed == {"variants.S-1.price": "11", "variants.S-1.inventory.Main": 4}
    assert result.pulled == {"vendor": {"old": None, "new": "Acme"}}
    assert "collections" not in result.pulled
    assert set(result.remote_only) == {
        "variants.S-1.price",
        "variants.S-1.inventory.Main",
        "collections",
        "vendor",
    }


def test_stock_where_the_store_has_no_location_is_not_a_change() -> None:
    remote = {k: v for k, v in BASE.items() if not k.endswith(".Nowhere")}
    assert "variants.S-1.inventory.Nowhere" in three_way(BASE, BASE, remote).confirmed
    assert three_way(BASE, BASE, remote, locations={"Main"}).remote_changed == {}


def test_what_is_shopifys_own_business_is_not_compared() -> None:
    remote = {
        **BASE,
        "variants.S-1.inventory.Pop-up": 0,  # a level the catalog never stocked, empty
        "metafields.reviews.rating": "4.5",  # another app's namespace
    }
    assert three_way(BASE, BASE, remote).remote_changed == {}


def test_a_remote_product_in_the_catalogs_terms() -> None:
    base = ProductSnapshot(
        handle="stapler",
        title="Stapler",
        images=(ImageSnapshot("https://img.example/a/stapler.jpg", "front"),),
        variants=(VariantSnapshot(sku="S-1", taxable=False),),
    )
    remote = RemoteProduct(
        id="gid://shopify/Product/1",
        handle="stapler",
        title="Stapler",
        description_html="",
        vendor="",
        product_type="",
        tags=("b", "a"),
        status="DRAFT",
        updated_at=datetime(2026, 11, 28, tzinfo=UTC),
        seo_title=None,
        seo_description=None,
        options=(),
        variants=(
            RemoteVariant(
                id="gid://shopify/ProductVariant/1",
                sku="S-1",
                barcode=None,
                price=Decimal("10.00"),
                compare_at_price=None,
                inventory_policy="DENY",
                position=1,
                option_values=(("Title", "Default Title"),),
                inventory_item_id="gid://shopify/InventoryItem/1",
                tracked=True,
                weight=Weight(Decimal("1.5"), "KILOGRAMS"),
                inventory={"Main": 5},
            ),
        ),
        metafields=(),
        images=(
            RemoteImage(
                "gid://shopify/MediaImage/1", "https://cdn.shopify.com/x/stapler.jpg", "front"
            ),
            RemoteImage("gid://shopify/MediaImage/2", None, ""),  # still processing
        ),
        collections=("Staplers",),
    )
    snapshot = remote_snapshot(remote, base)
    assert (snapshot.status, snapshot.tags) == ("draft", ("a", "b"))
    # Shopify's CDN keeps the file name: the same image under its base address.
    assert snapshot.images == (ImageSnapshot("https://img.example/a/stapler.jpg", "front"),)
    [variant] = snapshot.variants
    assert (variant.weight_grams, variant.inventory_policy, variant.taxable) == (
        Decimal("1500.00"),
        "deny",
        False,  # not reported by Shopify here: the base's value
    )
