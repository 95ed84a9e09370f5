"""The whole workflow through the API, against the Shopify emulator over HTTP: the samples of
../shared/samples imported, their changes staged and approved, pushed, and the store holding
exactly DATA.md's four products; then a Xorosoft change re-imported, and only it sent."""

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cowans.db.models import Role
from tests.emulator.conftest import TOKEN, RunningEmulator

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
LoginHeaders = Callable[[Role], dict[str, str]]
STORE_PRODUCTS = """
{ products(first: 6) { nodes {
    handle title status vendor productType tags
    collections(first: 2) { nodes { title } }
    media(first: 4) { nodes { ... on MediaImage { image { url } } } }
    metafields(first: 10) { nodes { namespace key value } }
    variants(first: 1) { nodes { sku price barcode inventoryItem {
      inventoryLevels(first: 2) { nodes { location { name }
        quantities(names: ["available"]) { quantity } } } } } } } } }
"""


def wait_until(check: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Workflow:
    def __init__(self, client: TestClient, login: LoginHeaders, emulator: RunningEmulator):
        self.client, self.emulator = client, emulator
        self.admin = login(Role.ADMIN)

    def call(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, headers=self.admin, **kwargs)
        assert response.status_code == expected, response.text
        return response.json()

    def connect(self) -> int:
        return self.call(
            "POST",
            "/api/shopify/stores",
            201,
            json={
                "name": "Demo",
                "shop_domain": "demo.myshopify.com",
                "access_token": TOKEN,
                "admin_url": f"{self.emulator.base_url}/demo/admin/api/2026-10/graphql.json",
                "location_map": {"MAIN": "Main Warehouse", "WEST": "Store Front"},
            },
        )["id"]

    def upload(self, kind: str, content: bytes) -> dict[str, Any]:
        started = self.call("POST", f"/api/imports/{kind}", 202, files={"file": ("f.csv", content)})
        return wait_until(
            lambda: (
                body
                if (body := self.call("GET", f"/api/imports/{started['import_id']}"))["state"]
                in ("completed", "failed")
                else None
            ),
            f"the {kind} import",
        )

    def staged(self, store_id: int, status: str = "pending") -> list[dict[str, Any]]:
        return self.call(
            "GET", "/api/sync/staged", params={"store_id": store_id, "status": status}
        )["items"]

    def wait_for_staging(self, store_id: int, count: int) -> list[dict[str, Any]]:
        return wait_until(
            lambda: rows if len(rows := self.staged(store_id)) == count else None,
            f"{count} staged changes",
        )

    def approve_all(self, store_id: int) -> None:
        body = {"all_pending": True, "decision": "approve", "store_id": store_id}
        self.call("POST", "/api/enhanced-sync/approve-changes", json=body)

    def push(self, store_id: int) -> dict[str, Any]:
        job = self.call("POST", "/api/sync/start", 202, json={"store_id": store_id})
        return wait_until(
            lambda: (
                found
                if (found := self.call("GET", f"/api/jobs/{job['job_id']}"))["state"]
                not in ("queued", "running")
                else None
            ),
            "the push",
        )

    def store_products(self) -> dict[str, dict[str, Any]]:
        nodes = self.emulator.gql(STORE_PRODUCTS)["data"]["products"]["nodes"]
        return {node["handle"]: node for node in nodes}

    def mutations(self) -> dict[str, int]:
        response = self.emulator.http.get(f"{self.emulator.base_url}/_emulator/demo/counters")
        return response.json()["mutations"]

    def clear_counters(self) -> None:
        self.emulator.http.delete(f"{self.emulator.base_url}/_emulator/demo/counters")


@pytest.fixture
def workflow(client: TestClient, login: LoginHeaders, emulator: RunningEmulator) -> Workflow:
    return Workflow(client, login, emulator)


def stock_of(node: dict[str, Any]) -> dict[str, int]:
    [variant] = node["variants"]["nodes"]
    levels = variant["inventoryItem"]["inventoryLevels"]["nodes"]
    return {lvl["location"]["name"]: lvl["quantities"][0]["quantity"] for lvl in levels}


def test_the_samples_reach_the_store_exactly_and_a_xorosoft_change_sends_only_itself(
    workflow: Workflow,
) -> None:
    store_id = workflow.connect()
    xorosoft = (SAMPLES / "xorosoft_sample.csv").read_bytes()
    assert workflow.upload("xorosoft", xorosoft)["state"] == "completed"
    assert workflow.upload("etilize", (SAMPLES / "etilize_sample.csv").read_bytes())["state"] == (
        "completed"
    )
    staged = workflow.wait_for_staging(store_id, 4)  # staged after the import, by itself
    assert {row["operation_type"] for row in staged} == {"create"}
    workflow.approve_all(store_id)
    job = workflow.push(store_id)
    assert job["state"] == "completed", job

    shop = workflow.store_products()
    assert sorted(shop) == [
        "bic-round-stic-blue-60",
        "hp-64xl-black-ink",
        "papermate-flair-felt-tip-12",
        "post-it-notes-3x3-canary",
    ]
    notes = shop["post-it-notes-3x3-canary"]
    [notes_variant] = notes["variants"]["nodes"]
    assert (notes_variant["sku"], Decimal(notes_variant["price"])) == ("MMM654YW", Decimal("14.99"))
    assert stock_of(notes) == {"Main Warehouse": 120, "Store Front": 35}
    assert len(notes["media"]["nodes"]) == 3
    assert [c["title"] for c in notes["collections"]["nodes"]] == ["Sticky Notes"]
    assert any(m["namespace"] == "custom" for m in notes["metafields"]["nodes"])
    ink = shop["hp-64xl-black-ink"]
    assert ink["variants"]["nodes"][0]["sku"] == "HEWN9J92AN"
    assert stock_of(ink) == {"Main Warehouse": 18, "Store Front": 0}
    bic = shop["bic-round-stic-blue-60"]
    assert bic["variants"]["nodes"][0]["sku"] == "BIC-GSM609-BE"
    assert stock_of(bic)["Main Warehouse"] == 0
    pens = shop["papermate-flair-felt-tip-12"]
    assert pens["status"] == "DRAFT"
    assert "Café" in pens["title"]
    assert [c["title"] for c in pens["collections"]["nodes"]] == ["Markers"]

    # Xorosoft moves one stock level and one price; only those are staged and sent.
    changed = xorosoft.replace(b"39.49,18,MAIN", b"39.49,7,MAIN").replace(
        b"19.99,44,MAIN", b"18.49,44,MAIN"
    )
    workflow.clear_counters()
    assert workflow.upload("xorosoft", changed)["state"] == "completed"
    staged = workflow.wait_for_staging(store_id, 2)
    assert {row["handle"]: row["changes"] for row in staged} == {
        "hp-64xl-black-ink": {
            "variants.HEWN9J92AN.inventory.Main Warehouse": {"old": 18, "new": 7}
        },
        "papermate-flair-felt-tip-12": {
            "variants.PAP1927694.price": {"old": "19.99", "new": "18.49"}
        },
    }
    workflow.approve_all(store_id)
    assert workflow.push(store_id)["state"] == "completed"
    assert workflow.mutations() == {"inventorySetQuantities": 1, "productVariantsBulkUpdate": 1}
    shop = workflow.store_products()
    assert stock_of(shop["hp-64xl-black-ink"])["Main Warehouse"] == 7
    pens_variant = shop["papermate-flair-felt-tip-12"]["variants"]["nodes"][0]
    assert Decimal(pens_variant["price"]) == Decimal("18.49")
    assert workflow.staged(store_id) == []


def test_a_batch_with_push_approves_and_sends_its_changes(workflow: Workflow) -> None:
    store_id = workflow.connect()
    workflow.upload("xorosoft", (SAMPLES / "xorosoft_sample.csv").read_bytes())
    workflow.upload("etilize", (SAMPLES / "etilize_sample.csv").read_bytes())
    workflow.wait_for_staging(store_id, 4)
    workflow.approve_all(store_id)
    assert workflow.push(store_id)["state"] == "completed"

    products = workflow.call("GET", "/api/products", params={"vendor": "BIC"})["items"]
    started = workflow.call(
        "POST",
        "/api/batch/process",
        202,
        json={
            "operation": "update",
            "product_ids": [product["id"] for product in products],
            "updates": {"tags": ["clearance"]},
            "push": True,
        },
    )
    batch = wait_until(
        lambda: (
            body
            if (body := workflow.call("GET", f"/api/batch/status/{started['batch_id']}"))["state"]
            not in ("queued", "running")
            else None
        ),
        "the batch",
    )
    assert batch["state"] == "completed", batch
    [push_job] = batch["push_jobs"]
    job = wait_until(
        lambda: (
            found
            if (found := workflow.call("GET", f"/api/jobs/{push_job}"))["state"]
            not in ("queued", "running")
            else None
        ),
        "the batch's push",
    )
    assert job["state"] == "completed", job
    assert "clearance" in workflow.store_products()["bic-round-stic-blue-60"]["tags"]
    assert workflow.staged(store_id) == []
