"""productSet: upsert by handle, list fields replaced, atomic user errors, async mode."""

from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product


def _set(emulator: RunningEmulator, values: dict, identifier: dict | None = None, **extra) -> dict:
    body = emulator.gql(PRODUCT_SET, {"input": values, "identifier": identifier, **extra})
    return body["data"]["productSet"]


def test_upsert_by_handle_never_duplicates(emulator: RunningEmulator) -> None:
    first = _set(emulator, simple_product("bic-pens", "BIC-1"), {"handle": "bic-pens"})
    again = _set(
        emulator, simple_product("bic-pens", "BIC-1", price="3.50"), {"handle": "bic-pens"}
    )
    assert first["userErrors"] == []
    assert again["userErrors"] == []
    assert first["product"]["id"] == again["product"]["id"]
    assert again["product"]["variants"]["nodes"][0]["price"] == "3.50"
    assert len(emulator.shop().data.products) == 1
