"""Typed catalog reads against the emulator over real HTTP: page sizes that stay under Shopify's
max cost, follow-ups that complete big products, lookups by handle and SKU in batches."""

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest

from cowans.shopify.client import ShopifyClient, StoreEndpoint
from cowans.shopify.documents import Document, load
from cowans.shopify.products import (
    MAX_QUERY_COST,
    PageShape,
    RemoteImage,
    RemoteMetafield,
    RemoteOption,
    RemoteProduct,
    RemoteVariant,
    VariantRef,
    Weight,
    fetch_products_by_handles,
    fetch_variants_by_skus,
    iterate_products,
    list_locations,
    plan_product_pages,
    search_batches,
    search_term,
)
from shopify_emulator.catalog import delete_product, delete_variant
from shopify_emulator.seed import seed_products
from shopify_emulator.shops import Shop
from shopify_emulator.state import Product
from tests.emulator.conftest import PRODUCT_SET, RunningEmulator

THREE_LOCATIONS = ("Main Warehouse", "Store Front", "Overflow")
# Small nested lists: most seeded products overflow one of them and need follow-ups.
SMALL_LISTS = PageShape(variants=4, metafields=2, media=2, collections=1)
# Fewer levels asked than there are locations: every variant's levels need a follow-up.
FEW_LEVELS = PageShape(variants=40, metafields=20, media=10, max_levels=2)


def endpoint_for(emulator: RunningEmulator) -> StoreEndpoint:
    admin_url = f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json"
    return StoreEndpoint(admin_url, emulator.shop().access_token)


def client_for(emulator: RunningEmulator) -> ShopifyClient:
    return ShopifyClient(endpoint_for(emulator))


# What the emulator holds, as the reads should see it -------------------------------------------


def expected_product(shop: Shop, product: Product) -> RemoteProduct:
    """The emulator's state of a product, built independently of the code under test."""
    data = shop.data
    option_names = [option.name for option in product.options]
    variants = []
    for variant in sorted(data.product_variants(product), key=lambda v: v.position):
        item = data.variant_item(variant)
        weight = None
        if item.weight_value is not None:
            weight = Weight(Decimal(str(item.weight_value)), item.weight_unit)
        variants.append(
            RemoteVariant(
                id=variant.id,
                sku=variant.sku or None,
                barcode=variant.barcode or None,
                price=Decimal(variant.price),
                compare_at_price=(
                    Decimal(variant.compare_at_price) if variant.compare_at_price else None
                ),
                inventory_policy=variant.inventory_policy,
                position=variant.position,
                option_values=tuple(zip(option_names, variant.option_values, strict=True)),
                inventory_item_id=item.id,
                tracked=item.tracked,
                weight=weight,
                inventory={
                    data.locations[level.location_number].name: level.quantities["available"]
                    for level in data.levels_of_item(item.number)
                },
            )
        )
    metafields = sorted(product.metafields.values(), key=lambda m: m.number)
    return RemoteProduct(
        id=product.id,
        handle=product.handle,
        title=product.title,
        description_html=product.description_html,
        vendor=product.vendor,
        product_type=product.product_type,
        tags=tuple(product.tags),
        status=product.status,
        updated_at=product.updated_at.replace(microsecond=0),
        seo_title=product.seo_title,
        seo_description=product.seo_description,
        options=tuple(
            RemoteOption(option.name, tuple(value.name for value in option.values))
            for option in product.options
        ),
        variants=tuple(variants),
        metafields=tuple(RemoteMetafield(m.namespace, m.key, m.type, m.value) for m in metafields),
        images=tuple(RemoteImage(media.id, media.src, media.alt) for media in product.media),
        collections=tuple(
            sorted(data.collections[number].title for number in product.collection_numbers)
        ),
    )


def expected_catalog(shop: Shop) -> dict[str, RemoteProduct]:
    return {p.handle: expected_product(shop, p) for p in shop.data.products.values()}


def big_product_input(location_ids: list[str], handle: str = "big-binder") -> dict[str, Any]:
    """30 variants stocked everywhere, 13 metafields and 6 images: more than any page asks for.
    The description holds U+2028, which a JSONL reader splitting like str.splitlines breaks on."""
    sizes = [f"{inches} in" for inches in range(1, 11)]
    colors = ["Red", "Green", "Blue"]
    return {
        "title": "Big Binder",
        "handle": handle,
        "descriptionHtml": "<p>Holds\u2028everything</p>",
        "vendor": "Avery",
        "tags": ["binders", "big"],
        "productOptions": [
            {"name": "Size", "values": [{"name": size} for size in sizes]},
            {"name": "Color", "values": [{"name": color} for color in colors]},
        ],
        "variants": [
            {
                "optionValues": [
                    {"optionName": "Size", "name": size},
                    {"optionName": "Color", "name": color},
                ],
                "sku": f"{handle.upper()}-{index}",
                "price": f"{10 + index}.25",
                "inventoryQuantities": [
                    {"locationId": location, "name": "available", "quantity": index + n}
                    for n, location in enumerate(location_ids)
                ],
            }
            for index, (size, color) in enumerate((s, c) for s in sizes for c in colors)
        ],
        "metafields": [
            {
                "namespace": "custom",
                "key": f"spec_{n}",
                "type": "single_line_text_field",
                "value": f"value {n}",
            }
            for n in range(13)
        ],
        "files": [
            {"originalSource": f"https://cdn.example.com/{handle}-{n}.jpg", "alt": f"View {n}"}
            for n in range(6)
        ],
    }


def create_product(emulator: RunningEmulator, values: dict[str, Any]) -> None:
    body = emulator.gql(PRODUCT_SET, {"input": values})
    assert body["data"]["productSet"]["userErrors"] == []


# Page sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "locations"),
    [
        (PageShape(), 2),
        (PageShape(), 40),
        (SMALL_LISTS, 1),
        (PageShape(variants=30, metafields=25, media=10), 3),
        (PageShape(variants=1, metafields=1, media=1), 0),
    ],
)
def test_the_page_size_is_the_largest_shopify_accepts(
    emulator: RunningEmulator, shape: PageShape, locations: int
) -> None:
    plan = plan_product_pages(shape, locations)
    document = load("products_page")
    variables = plan.variables(query=None, after=None)

    accepted = emulator.post(document.text, variables).json()
    assert "errors" not in accepted
    assert accepted["extensions"]["cost"]["requestedQueryCost"] <= MAX_QUERY_COST
    if plan.page_size < 250:
        bigger = emulator.post(document.text, {**variables, "first": plan.page_size + 1}).json()
        assert bigger["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_levels_asked_cover_every_location_up_to_the_cap() -> None:
    assert plan_product_pages(PageShape(max_levels=10), 3).levels == 4
    assert plan_product_pages(PageShape(max_levels=10), 40).levels == 10


def test_a_shape_too_big_for_even_one_product_is_refused() -> None:
    with pytest.raises(ValueError, match="ask for smaller nested lists"):
        plan_product_pages(PageShape(variants=250), 5)


# Reading every product -------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("shape", [SMALL_LISTS, FEW_LEVELS], ids=["small-lists", "few-levels"])
async def test_every_product_is_read_completely(
    make_emulator: Callable[..., RunningEmulator], shape: PageShape
) -> None:
    emulator = make_emulator(locations=THREE_LOCATIONS)
    seed_products(emulator.shop(), 25, seed=7)
    create_product(emulator, big_product_input(emulator.location_ids()))

    async with client_for(emulator) as client:
        products = [product async for product in iterate_products(client, shape=shape)]

    expected = expected_catalog(emulator.shop())
    assert {product.handle: product for product in products} == expected
    assert len(products) == len(expected) == 26
    assert [p.id for p in products] == sorted(
        (p.id for p in products), key=lambda i: int(i.rsplit("/", 1)[1])
    )
    big = next(p for p in products if p.handle == "big-binder")
    assert (len(big.variants), len(big.metafields), len(big.images)) == (30, 13, 6)
    assert big.variants[29].inventory == {
        "Main Warehouse": 29,
        "Store Front": 30,
        "Overflow": 31,
    }
    assert emulator.shop().counters["max_cost_exceeded"] == 0


class _MerchantAtWork(ShopifyClient):
    """Runs `change` right after the first product page comes back, as a merchant editing the
    store during a sync would."""

    def __init__(self, emulator: RunningEmulator, change: Callable[[], None]) -> None:
        super().__init__(endpoint_for(emulator))
        self.change: Callable[[], None] | None = change

    async def execute(self, document: Document, variables: Mapping[str, Any] | None = None) -> Any:
        result = await super().execute(document, variables)
        if document.name == "products_page" and self.change is not None:
            self.change()
            self.change = None
        return result


@pytest.mark.anyio
async def test_a_product_changed_while_read_is_read_afresh(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    """With levels followed up for every variant, deleting a variant or a product after the
    page breaks a follow-up: the product must then be read again, or dropped if gone."""
    emulator = make_emulator(locations=THREE_LOCATIONS)
    shop = emulator.shop()
    for handle in ("keeps", "goes"):
        create_product(emulator, big_product_input(emulator.location_ids(), handle))

    def change() -> None:
        keeps, goes = shop.data.products.values()
        variant = shop.data.variants[keeps.variant_numbers.pop()]
        delete_variant(shop.data, variant)
        delete_product(shop, goes)

    async with _MerchantAtWork(emulator, change) as client:
        products = [p async for p in iterate_products(client, shape=FEW_LEVELS)]

    assert [p.handle for p in products] == ["keeps"]
    assert len(products[0].variants) == 29
    assert products[0] == expected_catalog(shop)["keeps"]


@pytest.mark.anyio
async def test_a_query_narrows_the_products(emulator: RunningEmulator) -> None:
    create_product(emulator, big_product_input(emulator.location_ids(), "wanted"))
    create_product(emulator, big_product_input(emulator.location_ids(), "unwanted"))
    async with client_for(emulator) as client:
        products = [p async for p in iterate_products(client, query="handle:wanted")]
    assert [p.handle for p in products] == ["wanted"]


@pytest.mark.anyio
async def test_list_locations_pages_through_all_of_them(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    names = tuple(f"Depot {n:03d}" for n in range(260))  # more than one page of 250
    emulator = make_emulator(locations=names)
    async with client_for(emulator) as client:
        locations = await list_locations(client)
    assert sorted(locations) == list(names)
    assert sorted(locations.values()) == sorted(emulator.location_ids())


# Lookups ---------------------------------------------------------------------------------------


def test_search_terms_quote_what_the_syntax_would_misread() -> None:
    assert search_term("handle", "blue-pen-12") == "handle:blue-pen-12"
    assert search_term("sku", "AB.12/3") == "sku:AB.12/3"
    assert search_term("sku", "AB:12") == 'sku:"AB:12"'
    assert search_term("sku", "two words") == 'sku:"two words"'
    assert search_term("sku", "-neg") == 'sku:"-neg"'
    assert search_term("sku", "wild*") == 'sku:"wild*"'
    assert search_term("sku", 'say "hi" \\ (now)') == 'sku:"say \\"hi\\" \\\\ (now)"'


def test_search_batches_respect_term_and_length_limits() -> None:
    values = [f"value-{n:04d}" for n in range(300)]
    by_terms = list(search_batches("sku", values, max_terms=100, max_chars=100_000))
    assert [len(batch.values) for batch in by_terms] == [100, 100, 100]
    by_length = list(search_batches("sku", values, max_terms=1000, max_chars=200))
    assert all(len(batch.query) <= 200 for batch in by_length)
    assert [v for batch in by_length for v in batch.values] == values
    assert by_length[0].query == " OR ".join(f"sku:{v}" for v in by_length[0].values)


@pytest.mark.anyio
async def test_products_are_fetched_by_handle_in_batches(emulator: RunningEmulator) -> None:
    seed_products(emulator.shop(), 30, seed=11)
    expected = expected_catalog(emulator.shop())
    wanted = sorted(expected)[:20]
    shape = PageShape(variants=20, metafields=10, media=5)
    page_size = plan_product_pages(shape, len(emulator.location_ids())).page_size

    async with client_for(emulator) as client:
        found = await fetch_products_by_handles(
            client, [*wanted, wanted[0], "no-such-handle"], shape=shape
        )
        requests = client.stats.requests

    assert found == {handle: expected[handle] for handle in wanted}
    # One request for the locations, then one per batch of at most a page of handles (no
    # seeded product overflows this shape, so there are no follow-ups).
    assert requests == 1 + math.ceil(21 / page_size)


def _refs_by_sku(shop: Shop) -> dict[str, set[VariantRef]]:
    refs: dict[str, set[VariantRef]] = {}
    for variant in shop.data.variants.values():
        product = shop.data.products[variant.product_number]
        item = shop.data.variant_item(variant)
        ref = VariantRef(variant.id, variant.sku or "", item.id, product.id, product.handle)
        refs.setdefault(variant.sku or "", set()).add(ref)
    return refs


def _one_variant(handle: str, sku: str) -> dict[str, Any]:
    return {
        "title": handle,
        "handle": handle,
        "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
        "variants": [
            {"optionValues": [{"optionName": "Title", "name": "Default Title"}], "sku": sku}
        ],
    }


@pytest.mark.anyio
async def test_variants_are_fetched_by_sku_in_batches(emulator: RunningEmulator) -> None:
    seed_products(emulator.shop(), 80, seed=5)
    create_product(emulator, _one_variant("colon", "AB:12"))
    create_product(emulator, _one_variant("twin-1", "TWIN"))
    create_product(emulator, _one_variant("twin-2", "TWIN"))
    create_product(emulator, _one_variant("prefix", "TWIN-EXTRA"))  # must not match TWIN
    expected = _refs_by_sku(emulator.shop())
    wanted = [sku for sku in expected if sku != "TWIN-EXTRA"]
    assert len(list(search_batches("sku", wanted, max_terms=250))) > 1, "several batches"

    async with client_for(emulator) as client:
        found = await fetch_variants_by_skus(client, [*wanted, "NO-SUCH-SKU"])

    assert {sku: set(refs) for sku, refs in found.items()} == {sku: expected[sku] for sku in wanted}
    assert {ref.product_handle for ref in found["TWIN"]} == {"twin-1", "twin-2"}
    assert [ref.product_handle for ref in found["AB:12"]] == ["colon"]


def _many_variants(handle: str, sku: str, count: int) -> dict[str, Any]:
    values = [f"V{n:03d}" for n in range(count)]
    return {
        "title": handle,
        "handle": handle,
        "productOptions": [{"name": "Version", "values": [{"name": v} for v in values]}],
        "variants": [
            {"optionValues": [{"optionName": "Version", "name": v}], "sku": sku} for v in values
        ],
    }


@pytest.mark.anyio
async def test_a_full_page_of_duplicate_skus_is_split_not_cut(emulator: RunningEmulator) -> None:
    """Two SKUs carried by 130 variants each fill the 250-variant page of their batch."""
    create_product(emulator, _many_variants("first-many", "MANY-A", 130))
    create_product(emulator, _many_variants("second-many", "MANY-B", 130))
    async with client_for(emulator) as client:
        found = await fetch_variants_by_skus(client, ["MANY-A", "MANY-B"])
    assert (len(found["MANY-A"]), len(found["MANY-B"])) == (130, 130)
    assert len({ref.id for refs in found.values() for ref in refs}) == 260
