"""Matching Etilize products to Xorosoft items, rule by rule (DATA.md, "Matching")."""

from cowans.sources.matching import ItemRef, XorosoftIndex, match_products, normalize
from cowans.sources.records import EtilizeProduct

INDEX = XorosoftIndex(
    [
        ItemRef("MMM654YW", "MMM654"),
        ItemRef("HEWN9J92AN", "HEWN9J92"),
        ItemRef("BIC-GSM609-RD", "BICGSM609"),
        ItemRef("BIC-GSM609-BE", "BICGSM609"),
        ItemRef("PAP1927694", "PAP1927"),
    ]
)


def etilize(handle: str, sku: str, row: int = 2, **alternates: tuple[str, ...]) -> EtilizeProduct:
    return EtilizeProduct(
        row_number=row,
        handle=handle,
        title=handle,
        sku=sku,
        vendor="V",
        product_type="T",
        **alternates,
    )


def test_normalization() -> None:
    assert normalize("  bic-gsm609 / be ") == "BICGSM609BE"


def test_methods_in_order_and_base_part_fallback() -> None:
    report = match_products(
        [
            etilize("post-it", "mmm-654yw"),
            etilize("hp", "N9J92AN#140", cws_a=("HEW N9J92AN",)),
            etilize("bic", "GSM609-BE", cws_a=("NOPE",), cws_catalog=("BIC/GSM609",)),
            etilize("acme", "ACM-40001", sprc=("ZZZ",)),
        ],
        INDEX,
    )
    found = {
        m.product.handle: (m.item_number, m.method, m.matched_field)
        for m in report.matches.values()
    }
    assert found == {
        "post-it": ("MMM654YW", "sku", "ItemNumber"),
        "hp": ("HEWN9J92AN", "cws_a", "ItemNumber"),
        # BasePartNumber: the first item of that base part by ItemNumber, not file order.
        "bic": ("BIC-GSM609-BE", "cws_catalog", "BasePartNumber"),
    }
    assert [p.handle for p in report.unmatched] == ["acme"]
    assert report.method_counts() == {"sku": 1, "cws_a": 1, "cws_catalog": 1, "sprc": 0}


def test_item_number_wins_over_base_part_for_the_same_candidate() -> None:
    index = XorosoftIndex([ItemRef("ABC", "XYZ"), ItemRef("XYZ", "QQQ")])
    (match,) = match_products([etilize("p", "XYZ")], index).matches.values()
    assert (match.item_number, match.matched_field) == ("XYZ", "ItemNumber")


def test_duplicates_keep_the_best_method_then_file_order() -> None:
    report = match_products(
        [
            etilize("alt-listing", "X-UNKNOWN", row=2, cws_a=("MMM654YW",)),
            etilize("main-listing", "MMM654YW", row=3),
            etilize("third", "MMM654YW", row=4),
        ],
        INDEX,
    )
    assert report.matches["MMM654YW"].product.handle == "main-listing"
    assert sorted((d.handle, d.kept_handle) for d in report.duplicates) == [
        ("alt-listing", "main-listing"),
        ("third", "main-listing"),
    ]
