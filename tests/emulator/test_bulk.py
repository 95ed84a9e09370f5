"""Bulk operations end to end: export, staged upload and import, cancel, the concurrency limit,
listing, and the storage the files travel through, all over real HTTP."""

import json
import time
from typing import Any

import httpx
import pytest

from shopify_emulator.app import EmulatorOptions
from tests.emulator.conftest import PRODUCT_SET, RunningEmulator, simple_product

FAST = EmulatorOptions(bulk_rows_per_second=100_000)
# One top-level object per page and one page a second: slow enough to catch running.
SLOW = EmulatorOptions(bulk_rows_per_second=1)
DEADLINE_SECONDS = 20
FINISHED = ("COMPLETED", "FAILED", "CANCELED")

OPERATION_FIELDS = """id status type errorCode objectCount rootObjectCount fileSize url
partialDataUrl createdAt completedAt query"""
RUN_QUERY = f"""
mutation Run($query: String!, $group: Boolean!) {{
  bulkOperationRunQuery(query: $query, groupObjects: $group) {{
    bulkOperation {{ {OPERATION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""
RUN_MUTATION = f"""
mutation Run($mutation: String!, $path: String!) {{
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) {{
    bulkOperation {{ {OPERATION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""
CANCEL = f"""
mutation Cancel($id: ID!) {{
  bulkOperationCancel(id: $id) {{
    bulkOperation {{ {OPERATION_FIELDS} }}
    userErrors {{ field message }}
  }}
}}
"""
STATUS = f"query Op($id: ID!) {{ bulkOperation(id: $id) {{ {OPERATION_FIELDS} }} }}"
STAGE = """
mutation Stage($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
"""
PRODUCTS_WITH_VARIANTS = """
{ products(first: 1, sortKey: TITLE) { edges { node { id title
    variants(first: 1) { edges { node { id sku } } } } } } }
"""
BULK_PRODUCT_SET = """
mutation Set($input: ProductSetInput!) {
  productSet(input: $input) { product { id handle } userErrors { field message code } }
}
"""


# Helpers -----------------------------------------------------------------------------------


def _seed(emulator: RunningEmulator, count: int, sizes: tuple[str, ...] = ("S", "M", "L")) -> None:
    """`count` products titled P00, P01... with one variant per size, SKU `P<i>-<size>`."""
    location = emulator.location_ids()[0]
    for index in reversed(range(count)):  # created out of title order, to test the sort key
        values = {
            "title": f"P{index:02d}",
            "productOptions": [{"name": "Size", "values": [{"name": s} for s in sizes]}],
            "variants": [
                {
                    "optionValues": [{"optionName": "Size", "name": size}],
                    "sku": f"P{index:02d}-{size}",
                    "price": "5.00",
                    "inventoryQuantities": [
                        {"locationId": location, "name": "available", "quantity": 3}
                    ],
                }
                for size in sizes
            ],
        }
        body = emulator.gql(PRODUCT_SET, {"input": values})
        assert body["data"]["productSet"]["userErrors"] == []


def _run_query(emulator: RunningEmulator, query: str, group: bool = False) -> dict[str, Any]:
    payload = emulator.gql(RUN_QUERY, {"query": query, "group": group})["data"]
    return payload["bulkOperationRunQuery"]


def _operation(emulator: RunningEmulator, operation_id: str) -> dict[str, Any]:
    return emulator.gql(STATUS, {"id": operation_id})["data"]["bulkOperation"]


def _wait(emulator: RunningEmulator, operation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        operation = _operation(emulator, operation_id)
        if operation["status"] in FINISHED:
            return operation
        time.sleep(0.05)
    raise AssertionError(f"bulk operation {operation_id} did not finish")


def _download(emulator: RunningEmulator, url: str) -> tuple[bytes, list[dict[str, Any]]]:
    response = emulator.http.get(url)
    assert response.status_code == 200, response.text
    return response.content, [json.loads(line) for line in response.content.splitlines()]


def _stage(emulator: RunningEmulator, method: str | None = "POST") -> dict[str, Any]:
    item = {"resource": "BULK_MUTATION_VARIABLES", "filename": "bulk_op_vars"}
    item |= {"mimeType": "text/jsonl"} | ({"httpMethod": method} if method else {})
    payload = emulator.gql(STAGE, {"input": [item]})["data"]["stagedUploadsCreate"]
    assert payload["userErrors"] == []
    return payload["stagedTargets"][0]


def _fields(target: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in target["parameters"]}


def _upload(emulator: RunningEmulator, target: dict[str, Any], content: bytes) -> httpx.Response:
    """A multipart POST as clients send it: every parameter, then the file last."""
    return emulator.http.post(
        target["url"],
        data=_fields(target),
        files={"file": ("bulk_op_vars", content, "text/jsonl")},
    )


def _jsonl(*lines: dict[str, Any] | str) -> bytes:
    return "".join(
        (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
    ).encode()


def _run_mutation(
    emulator: RunningEmulator, path: str, mutation: str = BULK_PRODUCT_SET
) -> dict[str, Any]:
    payload = emulator.gql(RUN_MUTATION, {"mutation": mutation, "path": path})["data"]
    return payload["bulkOperationRunMutation"]


def _import(emulator: RunningEmulator, content: bytes) -> dict[str, Any]:
    target = _stage(emulator)
    assert _upload(emulator, target, content).status_code == 201
    started = _run_mutation(emulator, _fields(target)["key"])
    assert started["userErrors"] == []
    return started["bulkOperation"]


# Query export ------------------------------------------------------------------------------


@pytest.mark.parametrize("group", [False, True])
def test_export_writes_each_object_on_its_line_with_parent_ids(
    make_emulator: Any, group: bool
) -> None:
    emulator = make_emulator(options=FAST)
    _seed(emulator, 4)
    started = _run_query(emulator, PRODUCTS_WITH_VARIANTS, group)
    assert started["userErrors"] == []
    assert started["bulkOperation"]["status"] == "CREATED"
    assert started["bulkOperation"]["type"] == "QUERY"

    operation = _wait(emulator, started["bulkOperation"]["id"])
    raw, lines = _download(emulator, operation["url"])
    assert operation["status"] == "COMPLETED"
    assert operation["errorCode"] is None
    assert operation["completedAt"] is not None
    assert (operation["objectCount"], operation["rootObjectCount"]) == ("16", "4")
    assert operation["fileSize"] == str(len(raw))
    assert b"gid:\\/\\/shopify\\/Product\\/" in raw  # Shopify's JSONL escapes slashes

    products = [line for line in lines if "__parentId" not in line]
    assert [p["title"] for p in products] == ["P00", "P01", "P02", "P03"]  # sortKey kept
    assert all("variants" not in p for p in products)
    seen: list[str] = []
    skus: dict[str, set[str]] = {}
    for line in lines:
        if "__parentId" in line:
            assert line["__parentId"] in seen, "a child comes after its parent"
            if group:
                assert line["__parentId"] == seen[-1], "grouped: right after its parent"
            skus.setdefault(line["__parentId"], set()).add(line["sku"])
        else:
            seen.append(line["id"])
    assert {p["title"]: skus[p["id"]] for p in products} == {
        f"P{i:02d}": {f"P{i:02d}-S", f"P{i:02d}-M", f"P{i:02d}-L"} for i in range(4)
    }


def test_export_lifts_connections_out_of_nested_objects(make_emulator: Any) -> None:
    emulator = make_emulator(options=FAST)
    _seed(emulator, 2, sizes=("S",))
    query = """{ productVariants { nodes { sku inventoryItem { tracked
        inventoryLevels { nodes { location { name } } } } } } }"""
    operation = _wait(emulator, _run_query(emulator, query)["bulkOperation"]["id"])
    _, lines = _download(emulator, operation["url"])

    variants = {v.sku: v.id for v in emulator.shop().data.variants.values()}
    assert lines[:2] == [
        {"sku": "P01-S", "inventoryItem": {"tracked": True}},
        {"sku": "P00-S", "inventoryItem": {"tracked": True}},
    ]
    locations: dict[str, set[str]] = {}
    for level in lines[2:]:
        locations.setdefault(level["__parentId"], set()).add(level["location"]["name"])
    assert locations == {
        variant_id: {"Main Warehouse", "Store Front"} for variant_id in variants.values()
    }
    assert (operation["objectCount"], operation["rootObjectCount"]) == ("6", "2")


def test_export_of_nothing_completes_without_a_file(make_emulator: Any) -> None:
    emulator = make_emulator(options=FAST)
    operation = _wait(emulator, _run_query(emulator, PRODUCTS_WITH_VARIANTS)["bulkOperation"]["id"])
    assert operation["status"] == "COMPLETED"
    assert operation["objectCount"] == "0"
    assert operation["url"] is None
    assert operation["fileSize"] is None


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ shop { name } }", "at least one connection"),
        ('{ node(id: "gid://shopify/Product/1") { id } }', "node"),
        ("{ products { nodes { id } } locations { nodes { id } } }", "one top-level field"),
        (
            "{ products { nodes { variants { nodes { inventoryItem {"
            " inventoryLevels { nodes { id } } } } } } } }",
            "levels deep",
        ),
        ("{ products { nodes { id }", "Invalid bulk query"),
        ('mutation { tagsAdd(id: "x", tags: ["a"]) { node { id } } }', "must be a query"),
    ],
)
def test_a_query_shopify_would_refuse_starts_nothing(
    emulator: RunningEmulator, query: str, reason: str
) -> None:
    refused = _run_query(emulator, query)
    assert refused["bulkOperation"] is None
    [error] = refused["userErrors"]
    assert (error["field"], error["code"]) == (["query"], "INVALID")
    assert reason in error["message"]
    assert emulator.shop().data.bulk_operations == {}


# Staged upload and mutation import ----------------------------------------------------------


def test_staged_target_looks_like_shopifys(emulator: RunningEmulator) -> None:
    target = _stage(emulator)
    fields = _fields(target)
    assert target["url"].startswith(emulator.base_url)
    assert target["resourceUrl"] is None  # bulk variables are private
    assert list(fields) == [
        "Content-Type",
        "success_action_status",
        "acl",
        "key",
        "x-goog-date",
        "x-goog-credential",
        "x-goog-algorithm",
        "x-goog-signature",
        "policy",
    ]
    assert fields["Content-Type"] == "text/jsonl"
    assert fields["success_action_status"] == "201"
    assert fields["key"].startswith("tmp/")
    assert fields["key"].endswith("/bulk_op_vars")
    assert "/bulk/" in fields["key"]


def test_bulk_mutation_runs_every_line_and_reports_each(make_emulator: Any) -> None:
    emulator = make_emulator(options=FAST)
    content = _jsonl(
        {"input": simple_product("alpha", "A-1")},
        {"input": simple_product("blank", "B-1", title="")},
        "{not json",
        "",
        {"input": simple_product("gamma", "G-1")},
    )
    target = _stage(emulator)
    upload = _upload(emulator, target, content)
    key = _fields(target)["key"]
    assert upload.status_code == 201
    assert f"<Key>{key}</Key>" in upload.text
    assert emulator.shop().data.staged_uploads[key] == content

    started = _run_mutation(emulator, key)
    assert started["userErrors"] == []
    assert started["bulkOperation"]["type"] == "MUTATION"
    spent = emulator.shop().counters["points_spent"]
    _wait_in_process(emulator, started["bulkOperation"]["id"])
    assert emulator.shop().counters["points_spent"] == spent, "the import is not metered"

    operation = _operation(emulator, started["bulkOperation"]["id"])
    assert operation["status"] == "COMPLETED"  # even though lines failed
    assert operation["objectCount"] == "4"
    _, lines = _download(emulator, operation["url"])
    results = {line["__lineNumber"]: line for line in lines}
    assert sorted(results) == [0, 1, 2, 4]
    assert results[0]["data"]["productSet"]["userErrors"] == []
    assert results[0]["data"]["productSet"]["product"]["handle"] == "alpha"
    assert results[1]["data"]["productSet"]["product"] is None
    assert results[1]["data"]["productSet"]["userErrors"][0]["field"] == ["input", "title"]
    assert "Invalid JSONL line" in results[2]["errors"][0]["message"]
    assert results[4]["data"]["productSet"]["product"]["handle"] == "gamma"
    assert sorted(p.handle for p in emulator.shop().data.products.values()) == ["alpha", "gamma"]


def _wait_in_process(emulator: RunningEmulator, operation_id: str) -> None:
    """Wait without requests, so nothing but the operation could spend points."""
    number = int(operation_id.rsplit("/", 1)[1])
    deadline = time.monotonic() + DEADLINE_SECONDS
    while emulator.shop().data.bulk_operations[number].status not in FINISHED:
        assert time.monotonic() < deadline, "the bulk operation did not finish"
        time.sleep(0.02)


def test_a_line_with_bad_variables_fails_alone(make_emulator: Any) -> None:
    emulator = make_emulator(options=FAST)
    content = _jsonl(
        {"input": {"title": 7, "status": "NOPE"}}, ["a list"], {"input": {"title": "Ok"}}
    )
    operation = _wait(emulator, _import(emulator, content)["id"])
    _, lines = _download(emulator, operation["url"])
    assert [line["__lineNumber"] for line in lines] == [0, 1, 2]
    assert "errors" in lines[0]
    assert "errors" in lines[1]
    assert lines[2]["data"]["productSet"]["userErrors"] == []


def test_put_target_takes_a_signed_upload(make_emulator: Any) -> None:
    emulator = make_emulator(options=FAST)
    target = _stage(emulator, method=None)  # Shopify's default method is PUT
    key = target["url"].split("/_storage/staged-uploads/demo/", 1)[1].split("?", 1)[0]
    assert _fields(target) == {"content_type": "text/jsonl", "acl": "private"}
    wrong_type = emulator.http.put(
        target["url"], content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 403
    assert "SignatureDoesNotMatch" in wrong_type.text
    content = _jsonl({"input": simple_product("put-one", "PUT-1")})
    put = emulator.http.put(target["url"], content=content, headers={"Content-Type": "text/jsonl"})
    assert put.status_code == 200
    started = _run_mutation(emulator, key)
    assert started["userErrors"] == []
    assert _wait(emulator, started["bulkOperation"]["id"])["status"] == "COMPLETED"
    assert [p.handle for p in emulator.shop().data.products.values()] == ["put-one"]


def test_storage_refuses_uploads_the_target_does_not_allow(emulator: RunningEmulator) -> None:
    target = _stage(emulator)
    fields = _fields(target)
    file = {"file": ("bulk_op_vars", b"{}\n", "text/jsonl")}

    no_file = emulator.http.post(target["url"], data=fields, files={"other": ("x", b"", "a/b")})
    other_key = emulator.http.post(target["url"], data=fields | {"key": "tmp/1/x"}, files=file)
    tampered = emulator.http.post(
        target["url"], data=fields | {"policy": fields["policy"][:-4] + "AAA="}, files=file
    )
    other_shop = emulator.http.post(f"{emulator.base_url}/_storage/staged-uploads/nope", files=file)
    key_after_file = emulator.http.post(
        target["url"],
        files=[
            *((name, (None, value)) for name, value in fields.items() if name != "key"),
            ("file", ("bulk_op_vars", b"{}\n", "text/jsonl")),
            ("key", (None, fields["key"])),
        ],
    )

    assert no_file.status_code == 400
    assert other_key.status_code == 403
    assert "Policy Condition failed" in other_key.text
    assert tampered.status_code == 403
    assert other_shop.status_code == 404
    assert key_after_file.status_code == 403  # GCS ignores fields after the file
    assert emulator.shop().data.staged_uploads == {}


def test_bulk_mutation_needs_its_staged_file(emulator: RunningEmulator) -> None:
    never_uploaded = _fields(_stage(emulator))["key"]
    refused = _run_mutation(emulator, never_uploaded)
    assert refused["bulkOperation"] is None
    [error] = refused["userErrors"]
    assert (error["field"], error["code"]) == (["stagedUploadPath"], "NO_SUCH_FILE")


@pytest.mark.parametrize(
    "mutation",
    [
        BULK_PRODUCT_SET + BULK_PRODUCT_SET.replace("Set(", "Again("),
        "mutation { a: tagsAdd(id: $id, tags: []) { node { id } } }",
        'mutation { tagsAdd(id: "1", tags: ["a"]) { node { id } } '
        'tagsRemove(id: "1", tags: ["a"]) { node { id } } }',
        "{ products { nodes { id } } }",
        'mutation { bulkOperationCancel(id: "1") { userErrors { message } } }',
        "mutation { productSet(input: {title: 1 }",
    ],
)
def test_a_mutation_shopify_would_refuse_starts_nothing(
    emulator: RunningEmulator, mutation: str
) -> None:
    target = _stage(emulator)
    assert _upload(emulator, target, b"{}\n").status_code == 201
    refused = _run_mutation(emulator, _fields(target)["key"], mutation)
    assert refused["bulkOperation"] is None
    [error] = refused["userErrors"]
    assert (error["field"], error["code"]) == (["mutation"], "INVALID_MUTATION")


# Cancel, limit, listing ---------------------------------------------------------------------


def test_cancel_stops_the_operation_and_keeps_what_it_wrote(make_emulator: Any) -> None:
    emulator = make_emulator(options=SLOW)
    _seed(emulator, 5, sizes=("S",))
    started = _run_query(emulator, PRODUCTS_WITH_VARIANTS)["bulkOperation"]
    canceling = emulator.gql(CANCEL, {"id": started["id"]})["data"]["bulkOperationCancel"]
    assert canceling["userErrors"] == []
    assert canceling["bulkOperation"]["status"] == "CANCELING"

    operation = _wait(emulator, started["id"])
    assert operation["status"] == "CANCELED"
    assert int(operation["objectCount"]) < 10
    assert operation["url"] is None
    if operation["objectCount"] != "0":
        _, lines = _download(emulator, operation["partialDataUrl"])
        assert len(lines) == int(operation["objectCount"])
    again = emulator.gql(CANCEL, {"id": started["id"]})["data"]["bulkOperationCancel"]
    assert again["userErrors"][0]["message"].endswith("when it is canceled")
    unknown = emulator.gql(CANCEL, {"id": "gid://shopify/BulkOperation/1"})["data"]
    assert unknown["bulkOperationCancel"]["userErrors"][0]["field"] == ["id"]
    [payload] = [p for t, p in emulator.shop().events if t == "bulk_operations/finish"]
    assert payload["status"] == "canceled"
    assert payload["admin_graphql_api_id"] == started["id"]


def test_five_operations_run_at_once_and_no_more(make_emulator: Any) -> None:
    emulator = make_emulator(options=SLOW)
    _seed(emulator, 3, sizes=("S",))
    running = [_run_query(emulator, PRODUCTS_WITH_VARIANTS)["bulkOperation"] for _ in range(5)]
    assert all(op is not None for op in running)

    sixth = _run_query(emulator, PRODUCTS_WITH_VARIANTS)
    assert sixth["bulkOperation"] is None
    assert sixth["userErrors"][0]["code"] == "LIMIT_REACHED"

    emulator.gql(CANCEL, {"id": running[0]["id"]})
    assert _wait(emulator, running[0]["id"])["status"] == "CANCELED"
    seventh = _run_query(emulator, PRODUCTS_WITH_VARIANTS)
    assert seventh["userErrors"] == []
    for operation in [*running[1:], seventh["bulkOperation"]]:
        emulator.gql(CANCEL, {"id": operation["id"]})


LIST = """
query List($query: String, $after: String, $reverse: Boolean) {
  bulkOperations(first: 2, query: $query, after: $after, reverse: $reverse) {
    nodes { id type status }
    pageInfo { hasNextPage endCursor }
  }
  latestQuery: currentBulkOperation { id }
  latestMutation: currentBulkOperation(type: MUTATION) { id }
}
"""


def test_operations_are_listed_newest_first_and_searchable(make_emulator: Any) -> None:
    emulator = make_emulator(options=FAST)
    _seed(emulator, 1)
    first = _wait(emulator, _run_query(emulator, PRODUCTS_WITH_VARIANTS)["bulkOperation"]["id"])
    mutation = _wait(emulator, _import(emulator, _jsonl({"input": {"title": "X"}}))["id"])
    last = _wait(emulator, _run_query(emulator, PRODUCTS_WITH_VARIANTS)["bulkOperation"]["id"])

    def listed(**variables: Any) -> dict[str, Any]:
        return emulator.gql(LIST, variables)["data"]

    page = listed()
    assert [n["id"] for n in page["bulkOperations"]["nodes"]] == [last["id"], mutation["id"]]
    assert page["bulkOperations"]["pageInfo"]["hasNextPage"] is True
    after = page["bulkOperations"]["pageInfo"]["endCursor"]
    assert [n["id"] for n in listed(after=after)["bulkOperations"]["nodes"]] == [first["id"]]
    oldest = listed(reverse=True)["bulkOperations"]["nodes"]
    assert [n["id"] for n in oldest] == [first["id"], mutation["id"]]
    only_mutations = listed(query="operation_type:mutation")["bulkOperations"]["nodes"]
    assert only_mutations == [{"id": mutation["id"], "type": "MUTATION", "status": "COMPLETED"}]
    assert listed(query="status:running")["bulkOperations"]["nodes"] == []
    assert page["latestQuery"] == {"id": last["id"]}
    assert page["latestMutation"] == {"id": mutation["id"]}
    finished = [p for t, p in emulator.shop().events if t == "bulk_operations/finish"]
    assert [(p["type"], p["status"]) for p in finished] == [
        ("query", "completed"),
        ("mutation", "completed"),
        ("query", "completed"),
    ]


def test_result_link_is_signed(make_emulator: Any) -> None:
    emulator = make_emulator(options=FAST)
    _seed(emulator, 1)
    operation = _wait(emulator, _run_query(emulator, PRODUCTS_WITH_VARIANTS)["bulkOperation"]["id"])
    assert operation["url"].startswith(f"{emulator.base_url}/_storage/")
    forged = operation["url"].replace("Signature=", "Signature=0")
    other_number = operation["url"].replace(".jsonl", "0.jsonl")
    assert emulator.http.get(forged).status_code == 403
    assert emulator.http.get(other_number).status_code == 403
    assert emulator.http.get(operation["url"]).status_code == 200
