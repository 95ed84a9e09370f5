"""Importing the samples of ../shared/samples gives exactly DATA.md's expected outcome."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cowans.db.models import Product, ProductVersion, Role
from cowans.db.session import session_scope
from cowans.sources import imports

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
LoginHeaders = Callable[[Role], dict[str, str]]


def upload(
    client: TestClient, kind: str, content: bytes, name: str, headers: dict[str, str]
) -> dict:
    response = client.post(f"/api/imports/{kind}", files={"file": (name, content)}, headers=headers)
    assert response.status_code == 202, response.text
    return wait(client, response.json()["import_id"], headers)


def wait(client: TestClient, import_id: int, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 60
    while True:
        body = client.get(f"/api/imports/{import_id}", headers=headers).json()
        if body["state"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


@pytest.fixture
def editor(login: LoginHeaders) -> dict[str, str]:
    return login(Role.EDITOR)


@pytest.fixture
def samples_imported(client: TestClient, editor: dict[str, str]) -> dict:
    xorosoft = upload(
        client, "xorosoft", (SAMPLES / "xorosoft_sample.csv").read_bytes(), "xoro.csv", editor
    )
    assert xorosoft["state"] == "completed", xorosoft
    etilize = upload(
        client, "etilize", (SAMPLES / "etilize_sample.csv").read_bytes(), "feed.csv", editor
    )
    assert etilize["state"] == "completed", etilize
    return etilize


def products(engine: Engine) -> dict[str, Product]:
    with session_scope(engine) as session:
        found = session.scalars(select(Product)).all()
        for product in found:
            _ = (product.variants, product.images, product.metafields)
        return {p.handle: p for p in found}


def test_samples_give_the_expected_outcome(
    samples_imported: dict, engine: Engine, client: TestClient, editor: dict[str, str]
) -> None:
    report = samples_imported
    assert (report["matched"], report["unmatched"], report["duplicates"], report["errors"]) == (
        4,
        1,
        1,
        1,
    )
    assert report["report"]["methods"] == {"sku": 2, "cws_a": 1, "cws_catalog": 1, "sprc": 0}
    assert report["filename"] == "feed.csv"  # the name it was sent with, not the stored one
    assert [u["handle"] for u in report["report"]["unmatched"]] == ["acme-stapler-chrome"]
    assert report["report"]["duplicates"][0]["handle"] == "post-it-notes-3x3-canary-alt"

    catalog = products(engine)
    assert sorted(catalog) == [
        "bic-round-stic-blue-60",
        "hp-64xl-black-ink",
        "papermate-flair-felt-tip-12",
        "post-it-notes-3x3-canary",
    ]
    post_it = catalog["post-it-notes-3x3-canary"]
    assert [i.position for i in post_it.images] == [1, 2, 3]
    assert post_it.variants[0].sku == "MMM654YW"
    assert post_it.variants[0].inventory == {"MAIN": 120, "WEST": 35}
    assert str(post_it.variants[0].price) == "14.99"
    assert catalog["hp-64xl-black-ink"].match_method == "cws_a"
    bic = catalog["bic-round-stic-blue-60"]
    assert (bic.variants[0].sku, bic.matched_field, bic.variants[0].inventory) == (
        "BIC-GSM609-BE",
        "BasePartNumber",
        {"MAIN": 0},
    )
    paper_mate = catalog["papermate-flair-felt-tip-12"]
    assert (paper_mate.status, paper_mate.published) == ("draft", False)
    assert "Café" in paper_mate.title

    errors = client.get(report["report_url"], headers=editor)
    assert errors.headers["content-type"].startswith("text/csv")
    lines = errors.text.strip().splitlines()
    assert lines[0] == "row,column,reason"
    assert lines[1].startswith("9,Title,")


def test_reimporting_the_same_feed_changes_nothing(
    samples_imported: dict, engine: Engine, client: TestClient, editor: dict[str, str]
) -> None:
    with session_scope(engine) as session:
        versions = session.scalar(select(func.count()).select_from(ProductVersion))
    again = upload(
        client, "etilize", (SAMPLES / "etilize_sample.csv").read_bytes(), "feed.csv", editor
    )
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(ProductVersion)) == versions


def test_a_changed_row_touches_only_its_product(
    samples_imported: dict, engine: Engine, client: TestClient, editor: dict[str, str]
) -> None:
    feed = (
        (SAMPLES / "etilize_sample.csv")
        .read_bytes()
        .replace(b"HP 64XL High Yield", b"HP 64XL Extra")
    )
    result = upload(client, "etilize", feed, "feed.csv", editor)
    assert (result["updated"], result["unchanged"]) == (1, 3)
    assert products(engine)["hp-64xl-black-ink"].title.startswith("HP 64XL Extra")


def test_a_locked_field_survives_and_is_reported(
    samples_imported: dict, engine: Engine, client: TestClient, editor: dict[str, str]
) -> None:
    hp = products(engine)["hp-64xl-black-ink"]
    client.patch(f"/api/products/{hp.id}", json={"title": "HP 64XL (our title)"}, headers=editor)
    feed = (
        (SAMPLES / "etilize_sample.csv")
        .read_bytes()
        .replace(b"HP 64XL High Yield", b"HP 64XL Extra")
    )
    result = upload(client, "etilize", feed, "feed.csv", editor)
    assert result["locked_conflicts"] == 1
    assert result["report"]["locked"][0]["field"] == "title"
    assert products(engine)["hp-64xl-black-ink"].title == "HP 64XL (our title)"


def test_products_are_written_batch_by_batch(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, client: TestClient, editor: dict[str, str]
) -> None:
    """A batch of one: every product is loaded, written and let go on its own, as the products
    of a big feed are, and the outcome is the same."""
    monkeypatch.setattr(imports, "BATCH", 1)
    for kind, name in (("xorosoft", "xorosoft_sample.csv"), ("etilize", "etilize_sample.csv")):
        result = upload(client, kind, (SAMPLES / name).read_bytes(), name, editor)
        assert result["state"] == "completed", result
    assert (result["matched"], result["created"]) == (4, 4)
    catalog = products(engine)
    assert catalog["post-it-notes-3x3-canary"].variants[0].inventory == {"MAIN": 120, "WEST": 35}
    assert [i.position for i in catalog["post-it-notes-3x3-canary"].images] == [1, 2, 3]
    feed = (SAMPLES / "etilize_sample.csv").read_bytes().replace(b"HP 64XL High", b"HP 64XL Big")
    again = upload(client, "etilize", feed, "feed.csv", editor)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 3)


def test_a_file_that_is_not_a_feed_fails_and_changes_nothing(
    samples_imported: dict, engine: Engine, client: TestClient, editor: dict[str, str]
) -> None:
    before = {h: p.version for h, p in products(engine).items()}
    png = upload(
        client, "etilize", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "logo.png", editor
    )
    assert png["state"] == "failed"
    assert png["error"]
    assert {h: p.version for h, p in products(engine).items()} == before


def test_bad_requests(client: TestClient, editor: dict[str, str], login: LoginHeaders) -> None:
    assert (
        client.post("/api/imports/etilize", json={"source": "api"}, headers=editor).status_code
        == 422
    )
    assert client.post("/api/imports/etilize", json={"nope": 1}, headers=editor).status_code == 422
    assert (
        client.post(
            "/api/imports/xorosoft", files={"other": ("a", b"x")}, headers=editor
        ).status_code
        == 422
    )
    viewer = login(Role.VIEWER)
    assert (
        client.post(
            "/api/imports/etilize", files={"file": ("f.csv", b"x")}, headers=viewer
        ).status_code
        == 403
    )
    assert client.get("/api/imports/424242", headers=viewer).status_code == 404


def test_upload_names_cannot_escape_the_upload_folder(
    client: TestClient, editor: dict[str, str], settings
) -> None:
    result = upload(
        client,
        "xorosoft",
        (SAMPLES / "xorosoft_sample.csv").read_bytes(),
        "../../../etc/passwd",
        editor,
    )
    assert result["filename"] == "passwd"
    stored = list((settings.data_dir / "uploads").iterdir())
    assert all(path.parent == settings.data_dir / "uploads" for path in stored)
