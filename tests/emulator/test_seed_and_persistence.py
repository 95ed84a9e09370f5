"""Seeded catalogs (realistic, repeatable) and the SQLite state file."""

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from shopify_emulator.app import EmulatorOptions
from shopify_emulator.persistence import StateFile, dumps, loads
from shopify_emulator.seed import seed_products
from shopify_emulator.shops import Shop, ShopRegistry
from shopify_emulator.state import ShopData
from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product
from tests.emulator.webhook_receiver import wait_until

LOCATIONS = ("Main Warehouse", "Store Front", "Overflow")


def seeded_shop(count: int, seed: int, name: str = "demo") -> Shop:
    registry = ShopRegistry()
    shop = registry.add(Shop(name, "token"), LOCATIONS)
    seed_products(shop, count, seed)
    return shop


def catalog(shop: Shop) -> list[tuple]:
    data = shop.data
    return [
        (
            product.id,
            product.handle,
            product.title,
            product.vendor,
            tuple(product.tags),
            tuple(
                (v.sku, v.barcode, v.price, tuple(v.option_values))
                for v in data.product_variants(product)
            ),
        )
        for product in data.products.values()
    ]


def upc_is_valid(code: str) -> bool:
    digits = [int(c) for c in code]
    return (
        len(digits) == 12 and (sum(digits[0:11:2]) * 3 + sum(digits[1:11:2]) + digits[11]) % 10 == 0
    )


def test_the_same_seed_gives_the_same_catalog_and_another_seed_another() -> None:
    assert catalog(seeded_shop(200, 11)) == catalog(seeded_shop(200, 11))
    assert catalog(seeded_shop(200, 11)) != catalog(seeded_shop(200, 12))


def test_seeded_products_look_like_an_office_supplies_catalog() -> None:
    shop = seeded_shop(1500, 5)
    data = shop.data
    products = list(data.products.values())
    variants = list(data.variants.values())
    assert len(products) == 1500
    vendors = {p.vendor for p in products}
    assert {"3M", "HP", "BIC", "Avery", "Paper Mate", "Brother", "Canon"} <= vendors
    assert {"Pens", "Copy Paper", "Toner", "Binders", "Sticky Notes"} <= {
        p.product_type for p in products
    }
    assert sum(len(p.variant_numbers) > 1 for p in products) > 150
    assert any(len(p.options) == 2 for p in products)
    assert len({v.sku for v in variants}) == len(variants)
    assert all(upc_is_valid(v.barcode or "") for v in variants)
    assert all(float(v.price) > 0 for v in variants)
    assert all(p.tags and p.tags == sorted(p.tags, key=str.lower) for p in products)
    assert {p.status for p in products} == {"ACTIVE", "DRAFT", "ARCHIVED"}
    assert all(("custom", "manufacturer_part_number") in p.metafields for p in products)
    assert len(data.handles) == len(products)
    for variant in variants:
        levels = data.levels_of_item(variant.inventory_item_number)
        assert len(levels) == len(LOCATIONS)
    for collection in data.collections.values():
        for number in collection.product_numbers:
            assert collection.number in data.products[number].collection_numbers


def test_seeding_adds_to_a_shop_without_reusing_ids_or_handles() -> None:
    shop = seeded_shop(100, 1)
    seed_products(shop, 100, 1)
    data = shop.data
    assert len(data.products) == 200
    assert len(data.handles) == 200
    assert len(data.collections) == len({p.product_type for p in data.products.values()})


def test_seeded_products_are_served_and_searchable(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    shop = seeded_shop(300, 2)
    emulator = make_emulator([shop], LOCATIONS)
    body = emulator.gql(
        '{ products(first: 50, query: "vendor:BIC") { nodes { vendor variants(first: 5) '
        "{ nodes { sku inventoryQuantity } } } } }"
    )
    nodes = body["data"]["products"]["nodes"]
    assert nodes
    assert {node["vendor"] for node in nodes} == {"BIC"}
    assert all(v["sku"].startswith("BIC-") for n in nodes for v in n["variants"]["nodes"])


def test_a_shop_survives_a_round_trip_through_the_state_file(tmp_path: Path) -> None:
    shop = seeded_shop(50, 3)
    state = StateFile(tmp_path / "state.sqlite")
    state.write([(shop.name, dumps(shop.data))])

    registry = ShopRegistry()
    fresh = registry.add(Shop("demo", "token"), LOCATIONS)
    registry.add(Shop("other", "token"))
    assert state.shop_names() == {"demo"}
    assert state.load_into(registry) == ["demo"]
    assert catalog(fresh) == catalog(shop)
    assert registry.by_name("other").data.products == {}  # the file did not hold it
    assert fresh.data.next_number() == shop.data.next_number()  # ids continue, never collide


def test_a_missing_file_restores_nothing_and_rows_of_other_shops_are_left_alone(
    tmp_path: Path,
) -> None:
    state = StateFile(tmp_path / "sub" / "state.sqlite")
    registry = ShopRegistry()
    registry.add(Shop("demo", "token"))
    assert state.shop_names() == set()
    assert state.load_into(registry) == []
    state.write([("elsewhere", dumps(ShopData()))])
    assert state.load_into(registry) == []
    assert isinstance(loads(dumps(ShopData())), ShopData)


def test_loading_refuses_a_row_that_is_not_shop_data(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.sqlite")
    state.write([("demo", dumps(ShopData()))])
    with sqlite3.connect(state.path) as connection:
        connection.execute("UPDATE shops SET data = ?", (b"\x80\x05K\x01.",))  # pickled 1
    registry = ShopRegistry()
    registry.add(Shop("demo", "token"))
    with pytest.raises(TypeError):
        state.load_into(registry)


def test_the_server_saves_changed_shops_and_loads_them_at_start(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite"
    options = EmulatorOptions(state_file=str(path), state_save_interval=0.05)
    emulator = make_emulator(options=options)
    emulator.gql(PRODUCT_SET, {"input": simple_product("kept-pen", "KEEP-1")})

    def saved_handles() -> set[str]:
        registry = ShopRegistry()
        shop = registry.add(Shop("demo", "token"))
        StateFile(path).load_into(registry)
        return set(shop.data.handles)

    wait_until(lambda: path.exists() and saved_handles() == {"kept-pen"}, message="a save")

    again = make_emulator(options=options)
    body = again.gql(
        "{ products(first: 5) { nodes { handle variants(first: 1) { nodes { sku } } } } }"
    )
    assert body["data"]["products"]["nodes"] == [
        {"handle": "kept-pen", "variants": {"nodes": [{"sku": "KEEP-1"}]}}
    ]
