"""The catalog through the API: search, detail, edits that lock, releasing locks, history."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cowans.catalog.feed import FeedProduct
from cowans.catalog.upsert import apply_feed_product
from cowans.db.models import Product, Role
from cowans.db.session import session_scope

LoginHeaders = Callable[[Role], dict[str, str]]


def feed(handle: str, title: str, price: str = "9.99", **values) -> FeedProduct:
    base = {
        "title": title,
        "vendor": "3M",
        "product_type": "Notes",
        "tags": ["office"],
        "status": "active",
        "sku": handle.upper(),
        "price": Decimal(price),
        "inventory": {"MAIN": 5},
        "images": [["https://img/1.jpg", 1, "front"]],
        "specifications": [["color", ["Yellow"]]],
    }
    return FeedProduct(handle, {**base, **values}, {"price": "xorosoft", "sku": "xorosoft"})


def load(engine: Engine, *feeds: FeedProduct, import_id: int | None = None) -> list:
    results = []
    with session_scope(engine) as session:
        for item in feeds:
            existing = session.scalar(select(Product).where(Product.handle == item.handle))
            results.append(
                apply_feed_product(
                    session,
                    existing,
                    item,
                    source="etilize",
                    import_id=import_id,
                    moment=datetime.now(UTC),
                )
            )
    return results


def product_id(engine: Engine, handle: str) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(Product.id).where(Product.handle == handle))


def test_list_search_filters_and_pages(
    client: TestClient, engine: Engine, login: LoginHeaders
) -> None:
    load(
        engine,
        *(
            feed(
                f"pen-{n}",
                f"Pen {n}",
                status="draft" if n % 3 == 0 else "active",
                vendor="BIC" if n % 2 else "Pilot",
            )
            for n in range(12)
        ),
    )
    headers = login(Role.VIEWER)
    page = client.get("/api/products", params={"page_size": 5, "page": 2}, headers=headers).json()
    assert (page["total"], page["page"], len(page["items"])) == (12, 2, 5)
    assert page["items"][0]["handle"] == "pen-5"
    drafts = client.get(
        "/api/products", params={"status": "draft", "vendor": "Pilot"}, headers=headers
    )
    assert [p["handle"] for p in drafts.json()["items"]] == ["pen-0", "pen-6"]
    by_sku = client.get("/api/products", params={"query": "PEN-11"}, headers=headers).json()
    assert [p["handle"] for p in by_sku["items"]] == ["pen-11"]
    hostile = client.get("/api/products", params={"query": "%' OR 1=1 --"}, headers=headers)
    assert hostile.status_code == 200
    assert hostile.json()["total"] == 0
    assert (
        client.get("/api/products", params={"page_size": 10_000}, headers=headers).status_code
        == 422
    )


def test_detail_has_variants_images_specifications_provenance_and_versions(
    client: TestClient, engine: Engine, login: LoginHeaders
) -> None:
    load(engine, feed("notes", "Sticky Notes"))
    detail = client.get(
        f"/api/products/{product_id(engine, 'notes')}", headers=login(Role.VIEWER)
    ).json()
    assert detail["variants"][0]["sku"] == "NOTES"
    assert detail["variants"][0]["inventory"] == {"MAIN": 5}
    assert detail["images"] == [{"src": "https://img/1.jpg", "position": 1, "alt": "front"}]
    assert detail["metafields"][0]["key"] == "color"
    assert detail["provenance"]["price"]["source"] == "xorosoft"
    assert detail["provenance"]["title"]["source"] == "etilize"
    assert detail["versions"][0]["version"] == 1
    assert client.get("/api/products/999999", headers=login(Role.VIEWER)).status_code == 404


def test_the_detail_summarises_a_product_as_the_list_does(
    client: TestClient, engine: Engine, login: LoginHeaders
) -> None:
    load(engine, feed("pens", "Pens", inventory={"MAIN": 5, "WEST": 7}, tags=["b", "a"]))
    headers = login(Role.EDITOR)
    pid = product_id(engine, "pens")
    client.patch(f"/api/products/{pid}", json={"title": "Blue pens"}, headers=headers)
    [listed] = client.get("/api/products", headers=headers).json()["items"]
    detail = client.get(f"/api/products/{pid}", headers=headers).json()
    assert {name: detail[name] for name in listed} == listed
    assert (listed["sku"], listed["inventory_total"], listed["locked_fields"]) == (
        "PENS",
        12,
        ["title"],
    )


def test_an_edit_locks_the_field_until_released(
    client: TestClient, engine: Engine, login: LoginHeaders
) -> None:
    load(engine, feed("stapler", "Stapler"))
    pid = product_id(engine, "stapler")
    editor = login(Role.EDITOR)
    edited = client.patch(
        f"/api/products/{pid}",
        json={"title": "Heavy-Duty Stapler", "price": "12.5"},
        headers=editor,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["locked_fields"] == ["price", "title"]
    assert edited.json()["variants"][0]["price"] == "12.50"

    (result,) = load(engine, feed("stapler", "Stapler v2", price="8.00", vendor="Swingline"))
    assert result.changed == ["vendor"]
    disagreements = {d["field"]: d for d in result.locked_disagreements}
    assert set(disagreements) == {"price", "title"}
    assert disagreements["title"]["feed_value"] == "Stapler v2"
    detail = client.get(f"/api/products/{pid}", headers=editor).json()
    assert (detail["title"], detail["vendor"]) == ("Heavy-Duty Stapler", "Swingline")

    released = client.delete(f"/api/products/{pid}/locks/title", headers=editor)
    assert released.json()["locked_fields"] == ["price"]
    load(engine, feed("stapler", "Stapler v2", price="8.00", vendor="Swingline"))
    assert client.get(f"/api/products/{pid}", headers=editor).json()["title"] == "Stapler v2"
    history = client.get(f"/api/products/{pid}/history", headers=editor).json()
    assert [v["source"] for v in history] == ["etilize", "etilize", "user", "etilize"]
    assert history[2]["changes"]["title"] == ["Stapler", "Heavy-Duty Stapler"]


def test_the_same_feed_twice_writes_nothing(engine: Engine) -> None:
    first = load(engine, feed("ink", "Ink"))
    again = load(engine, feed("ink", "Ink"))
    assert first[0].created
    assert (again[0].created, again[0].changed) == (False, [])
    with session_scope(engine) as session:
        assert session.scalar(select(Product.version).where(Product.handle == "ink")) == 1


def test_bad_edits_are_4xx(client: TestClient, engine: Engine, login: LoginHeaders) -> None:
    load(engine, feed("clip", "Clip"))
    pid = product_id(engine, "clip")
    editor = login(Role.EDITOR)
    for body, status in (
        ({"title": ""}, 422),
        ({"price": "-1"}, 422),
        ({"status": "gone"}, 422),
        ({"handle": "x"}, 422),
        ({"tags": "not a list"}, 422),
    ):
        response = client.patch(f"/api/products/{pid}", json=body, headers=editor)
        assert response.status_code == status, (body, response.text)
    assert (
        client.patch(
            f"/api/products/{pid}", json={"title": "x"}, headers=login(Role.VIEWER)
        ).status_code
        == 403
    )
    assert client.delete(f"/api/products/{pid}/locks/title", headers=editor).status_code == 404
