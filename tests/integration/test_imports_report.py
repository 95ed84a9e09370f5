"""What the dashboard reads of an import beyond API.md's figures: the rejected rows inline in the
detail (the same rows as errors.csv), and the list by kind, newest first."""

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient

from cowans.db.models import Role

# Fixtures: re-exported so pytest finds them here.
from tests.integration.test_imports import SAMPLES, upload
from tests.integration.test_imports import editor as editor
from tests.integration.test_imports import samples_imported as samples_imported

LoginHeaders = Callable[[Role], dict[str, str]]


def test_the_detail_shows_the_rejected_rows_of_errors_csv(
    samples_imported: dict, client: TestClient, login: LoginHeaders
) -> None:
    viewer = login(Role.VIEWER)
    import_id = samples_imported["import_id"]
    detail = client.get(f"/api/imports/{import_id}", headers=viewer).json()
    download = client.get(f"/api/imports/{import_id}/errors.csv", headers=viewer)
    assert download.status_code == 200
    [header, *lines] = list(csv.reader(io.StringIO(download.text)))
    assert header == ["row", "column", "reason"]
    assert detail["errors"] == len(lines) == len(detail["row_errors"]) == 1
    assert [[str(e["row"]), e["column"], e["reason"]] for e in detail["row_errors"]] == lines
    assert detail["row_errors"][0]["column"] == "Title"


def test_the_detail_of_an_import_without_rejected_rows_has_none(
    client: TestClient, editor: dict[str, str]
) -> None:
    content = (SAMPLES / "xorosoft_sample.csv").read_bytes()
    report = upload(client, "xorosoft", content, "xoro.csv", editor)
    assert report["state"] == "completed", report
    assert report["row_errors"] == []


def test_the_list_keeps_one_kind_and_the_newest(
    samples_imported: dict, client: TestClient, editor: dict[str, str]
) -> None:
    every = client.get("/api/imports", headers=editor).json()
    assert [i["kind"] for i in every] == ["etilize", "xorosoft"]  # newest first
    stock = client.get("/api/imports", params={"kind": "xorosoft"}, headers=editor).json()
    assert [i["kind"] for i in stock] == ["xorosoft"]
    newest = client.get("/api/imports", params={"limit": 1}, headers=editor).json()
    assert [i["import_id"] for i in newest] == [samples_imported["import_id"]]
    refused = client.get("/api/imports", params={"kind": "shopify"}, headers=editor)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"]
    assert client.get("/api/imports", params={"limit": 0}, headers=editor).status_code == 422
