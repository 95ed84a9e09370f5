"""Cost and throttling as Shopify documents them, checked over HTTP."""

import httpx
import pytest

from shopify_emulator.cost import mutation_cost
from shopify_emulator.shops import Shop
from shopify_emulator.throttle import LeakyBucket
from tests.emulator.conftest import TOKEN, RunningEmulator, simple_product


def _cost(body: dict) -> dict:
    return body["extensions"]["cost"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ shop { name id } }", 1),  # an object is 1, its scalars 0
        ("{ products(first: 10) { edges { node { title } } } }", 12),  # 2 + 10 x 1
        ("{ products(first: 10) { nodes { id variants(first: 5) { nodes { price } } } } }", 82),
        ("{ products(last: 3) { pageInfo { hasNextPage } nodes { handle } } }", 5),
        ("{ a: shop { name } b: shop { name } }", 2),
    ],
)
def test_requested_cost_of_known_documents(
    emulator: RunningEmulator, query: str, expected: int
) -> None:
    assert _cost(emulator.gql(query))["requestedQueryCost"] == expected


def test_actual_cost_counts_what_was_returned_and_the_rest_is_refunded(
    emulator: RunningEmulator,
) -> None:
    emulator.gql(
        "mutation($i: ProductSetInput!) { productSet(input: $i) { userErrors { message } } }",
        {"i": simple_product("only-one", "SKU-1")},
    )
    emulator.shop().bucket.available = emulator.shop().bucket.maximum
    body = emulator.gql("{ products(first: 100) { nodes { handle } } }")
    cost = _cost(body)
    assert cost["requestedQueryCost"] == 102
    assert cost["actualQueryCost"] == 3  # 2 + one product
    # The bucket was full, so only the actual cost is missing from it afterwards.
    assert cost["throttleStatus"]["currentlyAvailable"] == pytest.approx(2000 - 3, abs=1)


def test_documented_dynamic_mutation_costs() -> None:
    variants = [{"optionValues": []} for _ in range(20)]
    metafields = [
        {"key": f"k{i}", "value": "v", "type": "single_line_text_field"} for i in range(5)
    ]
    # Shopify's own example: 20 variants and 5 product metafields cost 16.
    assert (
        mutation_cost("productSet", {"input": {"variants": variants, "metafields": metafields}})
        == 16
    )
    assert mutation_cost("productSet", {"input": {"variants": variants[:1]}}) == 10
    complex_input = {"variants": [{}] * 200, "files": [{}] * 10, "metafields": [{}] * 20}
    assert mutation_cost("productSet", {"input": complex_input}) == 77
    owners = [
        {"ownerId": "gid://shopify/Product/1"},
        {"ownerId": "gid://shopify/Product/1"},
        {"ownerId": "gid://shopify/ProductVariant/2"},
        {"ownerId": "gid://shopify/ProductVariant/3"},
    ]
    # 10 + one distinct product (4) + two distinct variants (2 each).
    assert mutation_cost("metafieldsSet", {"metafields": owners}) == 18
    assert (
        mutation_cost("productCreate", {"product": {"metafields": [{}] * 5}, "media": [{}] * 2})
        == 16
    )
    assert mutation_cost("tagsAdd", {"id": "x", "tags": ["a"]}) == 10


def test_mutation_cost_over_http(emulator: RunningEmulator) -> None:
    values = simple_product("cost-check", "SKU-C")
    body = emulator.gql(
        "mutation($i: ProductSetInput!) { productSet(input: $i) { userErrors { message } } }",
        {"i": values},
    )
    # 10 + 0.2 for the variant (rounded) + 1 for the userErrors list.
    assert _cost(body)["requestedQueryCost"] == 11


def test_throttled_requests_get_http_200_with_no_data(emulator: RunningEmulator) -> None:
    frozen = LeakyBucket(2000, 100, clock=lambda: 0.0)  # no restore while the test runs
    frozen.available = 5
    emulator.shop().bucket = frozen
    response = emulator.post("{ products(first: 10) { nodes { id } } }")
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["errors"][0]["message"] == "Throttled"
    cost = _cost(body)
    assert cost["requestedQueryCost"] == 12
    assert cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["maximumAvailable"] == 2000
    assert cost["throttleStatus"]["restoreRate"] == 100
    assert emulator.shop().counters["throttled"] == 1
    # A cheaper request still fits.
    assert "data" in emulator.post("{ shop { name } }").json()


def test_max_cost_exceeded(emulator: RunningEmulator) -> None:
    response = emulator.post(
        "{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }"
    )
    error = response.json()["errors"][0]
    assert response.status_code == 200
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["maxCost"] == 1000
    assert error["extensions"]["cost"] > 1000
    assert emulator.shop().bucket.available == emulator.shop().bucket.maximum


def test_input_arrays_above_250_are_refused(emulator: RunningEmulator) -> None:
    tags = [f"tag{i}" for i in range(251)]
    for query, variables in (
        (
            'mutation($t: [String!]!) { tagsAdd(id: "gid://shopify/Product/1", tags: $t) '
            "{ userErrors { message } } }",
            {"t": tags},
        ),
        (
            'mutation { tagsAdd(id: "gid://shopify/Product/1", tags: ['
            + ",".join(f'"{t}"' for t in tags)
            + "]) { userErrors { message } } }",
            None,
        ),
    ):
        body = emulator.post(query, variables).json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
        assert "251" in body["errors"][0]["message"]


def test_cost_debug_header_adds_the_breakdown(emulator: RunningEmulator) -> None:
    plain = emulator.gql("{ products(first: 5) { nodes { id } } }")
    assert "fields" not in _cost(plain)
    debug = emulator.gql(
        "{ products(first: 5) { nodes { id } } }", headers={"Shopify-GraphQL-Cost-Debug": "1"}
    )
    assert _cost(debug)["fields"] == [
        {
            "path": ["products"],
            "definedCost": 2,
            "requestedTotalCost": 7,
            "requestedChildrenCost": 5,
        }
    ]


def test_leaky_bucket_restores_at_the_plan_rate() -> None:
    now = [0.0]
    bucket = LeakyBucket.for_plan("plus", clock=lambda: now[0])
    assert bucket.status()["maximumAvailable"] == 20000
    assert bucket.try_take(20000)
    assert not bucket.try_take(1)
    now[0] += 0.5
    assert bucket.status()["currentlyAvailable"] == 500  # 1,000 points a second
    assert bucket.try_take(500)
    now[0] += 100
    assert bucket.status()["currentlyAvailable"] == 20000  # never above the maximum
    bucket.set_plan("standard")
    assert bucket.status() == {
        "maximumAvailable": 2000,
        "currentlyAvailable": 2000,
        "restoreRate": 100,
    }


def test_each_shop_has_its_own_token_data_and_bucket(make_emulator) -> None:
    emulator = make_emulator(
        [Shop("east", "token-east", plan="advanced"), Shop("west", "token-west")]
    )
    emulator.gql(
        "mutation($i: ProductSetInput!) { productSet(input: $i) { userErrors { message } } }",
        {"i": simple_product("east-only", "E-1")},
        shop="east",
    )
    west = emulator.gql("{ products(first: 5) { nodes { handle } } }", shop="west")
    assert west["data"]["products"]["nodes"] == []
    east = emulator.gql("{ shop { name plan { displayName shopifyPlus } } }", shop="east")
    assert east["data"]["shop"]["plan"] == {"displayName": "Advanced", "shopifyPlus": False}
    assert _cost(east)["throttleStatus"]["maximumAvailable"] == 4000
    wrong_token = emulator.http.post(
        f"{emulator.base_url}/west/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { name } }"},
        headers={"X-Shopify-Access-Token": "token-east"},
    )
    assert wrong_token.status_code == 401
    by_host = emulator.http.post(
        f"{emulator.base_url}/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { name } }"},
        headers={"X-Shopify-Access-Token": "token-east", "Host": "east.myshopify.com"},
    )
    assert by_host.json()["data"]["shop"]["name"] == "east"


def test_auth_and_version_errors_look_like_shopify(emulator: RunningEmulator) -> None:
    url = f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json"
    missing = emulator.http.post(url, json={"query": "{ shop { name } }"})
    assert missing.status_code == 401
    assert missing.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    old = emulator.http.post(
        url.replace("2026-10", "2019-01"),
        json={"query": "{ shop { name } }"},
        headers={"X-Shopify-Access-Token": TOKEN},
    )
    assert old.status_code == 404
    unknown_shop = emulator.http.post(
        url.replace("/demo/", "/nope/"),
        json={"query": "{ shop { name } }"},
        headers={"X-Shopify-Access-Token": TOKEN},
    )
    assert unknown_shop.status_code == 404


def test_validation_errors_are_graphql_errors(emulator: RunningEmulator) -> None:
    body = emulator.post("{ products(first: 1) { nodes { noSuchField } } }").json()
    assert "data" not in body
    assert "noSuchField" in body["errors"][0]["message"]
    assert body["errors"][0]["locations"]
    syntax = emulator.post("{ products(first: 1) { nodes { id } }").json()
    assert "Syntax Error" in syntax["errors"][0]["message"]
    bad_variable = emulator.post(
        "query($n: Int!) { products(first: $n) { nodes { id } } }", {"n": "ten"}
    ).json()
    assert "$n" in bad_variable["errors"][0]["message"]
    assert (
        emulator.http.post(
            f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json",
            content=b"not json",
            headers={"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"},
        ).status_code
        == 400
    )


def test_faults_are_injected_as_configured(emulator: RunningEmulator) -> None:
    faults = emulator.shop().faults
    faults.http_5xx = 1.0
    response = emulator.post("{ shop { name } }")
    assert response.status_code in (500, 502, 503)
    assert response.headers["content-type"].startswith("text/html")
    faults.http_5xx = 0.0

    faults.ise_after_apply = 1.0
    body = emulator.post(
        "mutation($i: ProductSetInput!) { productSet(input: $i) { userErrors { message } } }",
        {"i": simple_product("applied-anyway", "ISE-1")},
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "data" not in body
    # The nasty case: the mutation did happen.
    assert "applied-anyway" in emulator.shop().data.handles
    assert "data" in emulator.post("{ shop { name } }").json(), "queries are not affected"
    faults.ise_after_apply = 0.0

    faults.hang, faults.hang_seconds = 1.0, 5.0
    with pytest.raises(httpx.ReadTimeout):
        emulator.http.post(
            f"{emulator.base_url}/demo/admin/api/2026-10/graphql.json",
            json={"query": "{ shop { name } }"},
            headers={"X-Shopify-Access-Token": TOKEN},
            timeout=0.3,
        )
    faults.hang = 0.0
    counters = emulator.shop().counters
    assert (
        counters["faults_5xx"],
        counters["faults_ise_after_apply"],
        counters["faults_hang"],
    ) == (1, 1, 1)


def test_faults_are_reproducible_with_a_seed() -> None:
    def rolls(seed: int) -> list[bool]:
        shop = Shop("x", "t")
        shop.faults.reseed(seed)
        return [shop.faults.roll(0.3) for _ in range(50)]

    assert rolls(7) == rolls(7)
    assert rolls(7) != rolls(8)


def test_a_sole_shop_answers_on_a_plain_address(make_emulator) -> None:
    single = make_emulator()
    response = single.http.post(
        f"{single.base_url}/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { name } }"},
        headers={"X-Shopify-Access-Token": TOKEN},
    )
    assert response.json()["data"]["shop"]["name"] == "demo"
    several = make_emulator([Shop("a", "ta"), Shop("b", "tb")])
    response = several.http.post(
        f"{several.base_url}/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { name } }"},
        headers={"X-Shopify-Access-Token": "ta"},
    )
    assert response.status_code == 404
