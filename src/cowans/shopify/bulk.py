"""Bulk operations: exporting a whole catalog with one query and importing many mutations with
one upload, both run by Shopify in the background and free of the rate limit.

How an operation goes (shopify.dev, "Perform bulk operations with the GraphQL Admin API" and
"Bulk import data with the GraphQL Admin API"):
- it is started (`bulkOperationRunQuery`; or `stagedUploadsCreate`, a multipart upload of the
  variables file, then `bulkOperationRunMutation`), and `bulkOperation(id)` is polled with a
  growing interval until a final status. A `bulk_operations/finish` webhook may cut a wait
  short (`FinishSignal`), but polling stays the source of truth: webhooks can be late or lost;
- COMPLETED hands out a link to JSONL results. FAILED, CANCELED and EXPIRED raise
  `ShopifyError(BULK_OPERATION_FAILED)`; an operation that outlives its timeout is canceled,
  since it would otherwise keep one of the shop's few bulk slots busy.

Memory. An export puts each connection node on a line of its own, without its nested
connections, whose nodes follow on their own lines carrying `__parentId`: after their parent,
but (ungrouped, as we ask, because grouping makes Shopify slower) possibly long after it, behind
other parents, even at the very end. No object can be called complete before the file ends, so
waiting in memory for a parent's last child could mean holding the whole file. Instead the
download goes line by line into a SQLite file in a temporary directory, indexed by parent, and
objects are read back one top-level object at a time, each with its whole subtree (one recursive
query). Memory then holds one top-level object's subtree plus SQLite's page cache (capped at
`SQLITE_CACHE_KIB`) whatever the file's size or order; the disk holds about the file's size.
Import results are read line by line as well; only the per-line outcomes returned are kept.
"""

import asyncio
import json
import logging
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
)
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from string import Template
from typing import Any, Protocol, TypeVar

import httpx

from cowans.shopify.client import ShopifyClient
from cowans.shopify.documents import Document, load
from cowans.shopify.errors import ShopifyError, ShopifyErrorCode, ShopifyUnavailable
from cowans.shopify.products import (
    Node,
    RemoteProduct,
    list_locations,
    parse_image,
    parse_metafield,
    parse_product,
    parse_variant,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
JSONL_MIME_TYPE = "text/jsonl"
VARIABLES_FILENAME = "bulk_op_vars.jsonl"
# Shopify's limit for one staged variables file (changelog "Faster bulk operations", 2026-01).
MAX_VARIABLES_BYTES = 100 * 1024 * 1024
DOWNLOAD_CHUNK_BYTES = 64 * 1024
SQLITE_CACHE_KIB = 16 * 1024
LEVEL_ALIAS = "level_"


# Waiting ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollPolicy:
    """How to wait for an operation: the first look comes soon, since small operations finish
    in seconds, then the interval grows so that a long export costs few requests. Shopify lets
    an operation run for days; the timeout is how long the caller is willing to wait."""

    first_seconds: float = 1.0
    max_seconds: float = 30.0
    backoff: float = 1.5
    timeout_seconds: float = 12 * 3600.0

    def intervals(self) -> Iterator[float]:
        interval = self.first_seconds
        while True:
            yield interval
            interval = min(self.max_seconds, interval * self.backoff)


DEFAULT_POLL = PollPolicy()

# Waits at most the given seconds for news that the operation finished (e.g. its
# `bulk_operations/finish` webhook) and returns as soon as there is some.
FinishSignal = Callable[[str, float], Awaitable[object]]


async def sleep_only(_operation_id: str, seconds: float) -> None:
    """The FinishSignal of a process that receives no webhooks."""
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class BulkOperationState:
    id: str
    status: str
    error_code: str | None
    object_count: int
    root_object_count: int
    file_size: int | None
    url: str | None
    partial_data_url: str | None

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> "BulkOperationState":
        """Counts arrive as strings (UnsignedInt64)."""
        file_size = node.get("fileSize")
        return cls(
            id=node["id"],
            status=node["status"],
            error_code=node.get("errorCode"),
            object_count=int(node.get("objectCount") or 0),
            root_object_count=int(node.get("rootObjectCount") or 0),
            file_size=None if file_size is None else int(file_size),
            url=node.get("url"),
            partial_data_url=node.get("partialDataUrl"),
        )

    def details(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "error_code": self.error_code,
            "object_count": self.object_count,
            "partial_data_url": self.partial_data_url,
        }


def completed_or_raise(state: BulkOperationState) -> BulkOperationState:
    if state.status == "COMPLETED":
        return state
    reason = f" ({state.error_code})" if state.error_code else ""
    raise ShopifyError(
        ShopifyErrorCode.BULK_OPERATION_FAILED,
        f"Bulk operation {state.id} ended {state.status}{reason}",
        state.details(),
    )


async def fetch_bulk_operation(client: ShopifyClient, operation_id: str) -> BulkOperationState:
    result = await client.execute(load("bulk_operation"), {"id": operation_id})
    node = result.data.get("bulkOperation")
    if node is None:
        raise ShopifyError(
            ShopifyErrorCode.BULK_OPERATION_FAILED,
            f"Bulk operation {operation_id} does not exist",
            {"id": operation_id},
        )
    return BulkOperationState.from_node(node)


class _Progress:
    """When an operation of a known size should finish, from the pace its object count has
    kept so far. A growing interval alone overshoots the end by up to half the time waited (a
    12 s operation is seen done at 13.2 s, a 14 s one at 20.8 s); looking again just after
    the predicted end costs one request and a point."""

    SLACK = 1.1  # look a little after the predicted end, rather than just before it
    SOONEST = 0.25  # seconds: never poll faster than this

    def __init__(self, expected: int | None, started: float) -> None:
        self.expected, self.started = expected, started

    def wait(self, interval: float, state: BulkOperationState | None, now: float) -> float:
        """The interval, or less when the operation should be done sooner. Past the expected
        count (an export's size is an estimate; a mutation writes its results), a tenth of the
        time it has run: soon after a short overrun, without a look every instant in a long
        one."""
        if not self.expected or state is None or state.object_count <= 0:
            return interval
        elapsed = max(now - self.started, 1e-3)
        if state.object_count >= self.expected:
            return min(interval, max(self.SOONEST, elapsed / 10))
        pace = state.object_count / elapsed  # objects per second
        left = (self.expected - state.object_count) / pace
        return min(interval, max(self.SOONEST, left * self.SLACK))


async def wait_for_bulk_operation(
    client: ShopifyClient,
    operation_id: str,
    *,
    poll: PollPolicy = DEFAULT_POLL,
    finished: FinishSignal = sleep_only,
    expected_objects: int | None = None,
) -> BulkOperationState:
    """The operation once COMPLETED. Raises for any other final status, and cancels the
    operation when it is still running at the timeout. Never sleeps past the deadline.
    `expected_objects` (a mutation's line count) lets the waits follow the operation's pace."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + poll.timeout_seconds
    intervals = poll.intervals()
    progress = _Progress(expected_objects, loop.time())
    state: BulkOperationState | None = None
    while True:
        left = deadline - loop.time()
        if left <= 0:
            return await _cancel_after_timeout(client, operation_id, poll)
        wait = progress.wait(next(intervals), state, loop.time())
        await finished(operation_id, min(wait, left))
        state = await fetch_bulk_operation(client, operation_id)
        if state.status in FINAL_STATUSES:
            return completed_or_raise(state)


async def _cancel_after_timeout(
    client: ShopifyClient, operation_id: str, poll: PollPolicy
) -> BulkOperationState:
    """Cancel, then look once more: the operation may have completed in the meantime, and then
    its results are as good as ever."""
    await client.execute(load("bulk_operation_cancel"), {"id": operation_id})
    state = await fetch_bulk_operation(client, operation_id)
    if state.status == "COMPLETED":
        return state
    raise ShopifyError(
        ShopifyErrorCode.BULK_OPERATION_FAILED,
        f"Bulk operation {operation_id} did not finish within {poll.timeout_seconds:g}s and "
        "was canceled",
        {**state.details(), "reason": "timeout"},
    )


def _accepted(data: Mapping[str, Any], field_name: str, what: str) -> Node:
    """The mutation's payload, or ShopifyError when Shopify refused it with userErrors (e.g.
    LIMIT_REACHED while the shop already runs its maximum of bulk operations)."""
    payload = data[field_name]
    errors = payload.get("userErrors") or []
    if errors:
        raise ShopifyError(
            ShopifyErrorCode.BULK_OPERATION_FAILED,
            f"Shopify refused to {what}: {errors[0].get('message')}",
            errors,
        )
    return payload


# Talking to the storage behind Shopify (uploads and result links) ------------------------------


class _StorageHiccup(Exception):
    """A 5xx or 429 from the storage service: worth another try."""


def _check_storage_answer(status: int, body: bytes, what: str) -> None:
    if status == 429 or status >= 500:
        raise _StorageHiccup(f"{what}: HTTP {status}")
    if status >= 300:
        raise ShopifyError(
            ShopifyErrorCode.BULK_OPERATION_FAILED,
            f"{what} was refused (HTTP {status})",
            body[:500].decode(errors="replace"),
        )


async def _with_storage_retries(
    client: ShopifyClient, what: str, attempt: Callable[[], Awaitable[T]]
) -> T:
    """Storage links are plain HTTP, outside the GraphQL client: retried the same way, with the
    client's policy, each attempt starting over."""
    failures = 0
    while True:
        try:
            return await attempt()
        except (httpx.TransportError, _StorageHiccup) as exc:
            failures += 1
            if failures >= client.retry.max_attempts:
                raise ShopifyUnavailable(f"{what} failed {failures} times", failures) from exc
            await asyncio.sleep(client.retry.delay(failures))


class LineSink(Protocol):
    def restart(self) -> None:
        """Forget every line received: the download starts over."""

    def add(self, line: bytes) -> None: ...


async def feed_lines(chunks: AsyncIterator[bytes], sink: LineSink) -> None:
    """Split on b"\\n" only: JSON strings may hold U+2028 and other characters that
    str.splitlines, and so httpx's aiter_lines, would take for line ends."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        end = buffer.rfind(b"\n")
        if end < 0:
            continue
        for line in bytes(buffer[:end]).split(b"\n"):
            if line.strip():
                sink.add(line)
        del buffer[: end + 1]
    if bytes(buffer).strip():
        sink.add(bytes(buffer))


async def download_lines(client: ShopifyClient, url: str, sink: LineSink) -> None:
    """Stream a result file into `sink` line by line. The link is signed: no Shopify token is
    sent to it."""

    async def attempt() -> None:
        sink.restart()
        async with client.http.stream("GET", url) as response:
            if response.status_code != 200:
                body = await response.aread()
                _check_storage_answer(response.status_code, body, "Downloading bulk results")
            await feed_lines(response.aiter_bytes(DOWNLOAD_CHUNK_BYTES), sink)

    await _with_storage_retries(client, "Downloading bulk results", attempt)


# Reassembling an export ------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkObject:
    """One exported object (its line, minus `__parentId`) with the objects of its nested
    connections."""

    fields: dict[str, Any]
    children: tuple["BulkObject", ...] = ()

    @property
    def kind(self) -> str | None:
        """The type, from `__typename` if selected, else from the id (`gid://shopify/<Type>/1`):
        children of different connections share one list and are told apart by it."""
        if "__typename" in self.fields:
            return self.fields["__typename"]
        own_id = self.fields.get("id")
        if not isinstance(own_id, str) or not own_id.startswith("gid://shopify/"):
            return None
        return own_id.removeprefix("gid://shopify/").split("/", 1)[0]

    def children_of_kind(self, kind: str) -> list["BulkObject"]:
        return [child for child in self.children if child.kind == kind]


_TREE_SCHEMA = f"""
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -{SQLITE_CACHE_KIB};
CREATE TABLE lines (seq INTEGER PRIMARY KEY, id TEXT, parent TEXT, body BLOB NOT NULL);
"""
_SUBTREE = """
WITH RECURSIVE subtree(seq, id, parent, body) AS (
    SELECT seq, id, parent, body FROM lines WHERE seq = ?
    UNION ALL
    SELECT child.seq, child.id, child.parent, child.body
    FROM lines AS child JOIN subtree ON child.parent = subtree.id
)
SELECT seq, id, parent, body FROM subtree ORDER BY seq
"""

_Row = tuple[int, str | None, str | None, bytes]


def _line_fields(body: bytes) -> dict[str, Any]:
    fields = json.loads(body)
    fields.pop("__parentId", None)
    return fields


def _assemble(rows: list[_Row]) -> BulkObject:
    """One top-level object from its subtree's rows, which come in file order, so every parent
    is met before its children."""
    (_seq, root_id, _parent, root_body), *rest = rows
    children: dict[str | None, list[tuple[str | None, dict[str, Any]]]] = defaultdict(list)
    for _child_seq, own_id, parent, body in rest:
        children[parent].append((own_id, _line_fields(body)))

    def build(own_id: str | None, fields: dict[str, Any]) -> BulkObject:
        kids = children.get(own_id, []) if own_id is not None else []
        return BulkObject(fields, tuple(build(kid_id, kid) for kid_id, kid in kids))

    return build(root_id, _line_fields(root_body))


class BulkResultTree:
    """An export's lines in a SQLite file, read back as trees (see the module's "Memory")."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.executescript(_TREE_SCHEMA)
        self._count = 0

    def restart(self) -> None:
        self._db.execute("DELETE FROM lines")
        self._count = 0

    def add(self, line: bytes) -> None:
        record = json.loads(line)
        self._db.execute(
            "INSERT INTO lines VALUES (?, ?, ?, ?)",
            (self._count, record.get("id"), record.get("__parentId"), line),
        )
        self._count += 1

    def objects(self) -> Iterator[BulkObject]:
        """Every top-level object with its subtree, in file order."""
        self._db.execute("CREATE INDEX IF NOT EXISTS lines_by_parent ON lines (parent)")
        self._db.commit()
        roots = self._db.execute("SELECT seq FROM lines WHERE parent IS NULL ORDER BY seq")
        for (seq,) in roots:
            yield _assemble(self._db.execute(_SUBTREE, (seq,)).fetchall())

    def close(self) -> None:
        self._db.close()


# Bulk query export -----------------------------------------------------------------------------


async def start_bulk_query(client: ShopifyClient, query_text: str) -> str:
    result = await client.execute(load("bulk_operation_run_query"), {"query": query_text})
    payload = _accepted(result.data, "bulkOperationRunQuery", "start the bulk query")
    return payload["bulkOperation"]["id"]


async def run_bulk_query(
    client: ShopifyClient,
    query_text: str,
    *,
    poll: PollPolicy = DEFAULT_POLL,
    finished: FinishSignal = sleep_only,
    expected_objects: int | None = None,
) -> AsyncIterator[BulkObject]:
    """Every top-level object the bulk query exports, with its nested objects attached, in
    file order. The operation starts when iteration does; close the iterator (e.g. with
    `contextlib.aclosing`) to drop the temporary files early when not reading to the end.
    `expected_objects`, the lines the caller reckons the file will have, paces the waits."""
    operation_id = await start_bulk_query(client, query_text)
    state = await wait_for_bulk_operation(
        client, operation_id, poll=poll, finished=finished, expected_objects=expected_objects
    )
    if state.url is None:  # nothing matched: Shopify writes no file
        return
    with (
        tempfile.TemporaryDirectory(prefix="cowans-bulk-") as directory,
        closing(BulkResultTree(Path(directory) / "export.sqlite3")) as tree,
    ):
        await download_lines(client, state.url, tree)
        for exported in tree.objects():
            yield exported


_BULK_PRODUCTS = Template("""
{
  products$arguments {
    edges {
      node {
        id handle title descriptionHtml vendor productType tags status updatedAt
        seo { title description }
        options(first: 3) { name values }
        variants {
          edges {
            node {
              id sku barcode price compareAtPrice inventoryPolicy position
              selectedOptions { name value }
              inventoryItem {
                id tracked
                measurement { weight { unit value } }
$levels
              }
            }
          }
        }
$parts
      }
    }
  }
}
""")
# The product lists an export may leave out (`iterate_bulk_products(parts=...)`): each adds a
# line per element to the file, and so to the time Shopify takes to write it.
METAFIELDS, MEDIA, COLLECTIONS = "metafields", "media", "collections"
PRODUCT_PARTS = frozenset({METAFIELDS, MEDIA, COLLECTIONS})
_PART_SELECTIONS = {
    METAFIELDS: "metafields { edges { node { id namespace key type value } } }",
    MEDIA: "media { edges { node { id ... on MediaImage { alt image { url } } } } }",
    COLLECTIONS: 'collections(query: "collection_type:custom") { edges { node { id title } } }',
}


def bulk_products_query(
    location_ids: Iterable[str],
    query: str | None = None,
    parts: Collection[str] = PRODUCT_PARTS,
) -> str:
    """The export behind `iterate_bulk_products`. A bulk query nests connections at most two
    deep, so a variant's `inventoryLevels` connection is out of reach: each location's level is
    asked by alias instead (`level_0: inventoryLevel(locationId: ...)`). With every part it
    selects five connections, the most Shopify allows in one bulk query: another list needs
    another query."""
    unknown = set(parts) - PRODUCT_PARTS
    if unknown:
        raise ValueError(f"unknown product parts: {', '.join(sorted(unknown))}")
    levels = "\n".join(
        f"{' ' * 16}{LEVEL_ALIAS}{index}: inventoryLevel(locationId: {json.dumps(location)}) "
        '{ location { id name } quantities(names: ["available"]) { name quantity } }'
        for index, location in enumerate(location_ids)
    )
    arguments = f"(query: {json.dumps(query)})" if query else ""
    selections = "\n".join(
        f"{' ' * 8}{selection}" for part, selection in _PART_SELECTIONS.items() if part in parts
    )
    return _BULK_PRODUCTS.substitute(arguments=arguments, levels=levels, parts=selections)


def _bulk_levels(variant: Mapping[str, Any]) -> list[Node]:
    item = variant["inventoryItem"]
    return [
        level for key, level in item.items() if key.startswith(LEVEL_ALIAS) and level is not None
    ]


def product_from_bulk(product: BulkObject) -> RemoteProduct:
    images = (parse_image(media.fields) for media in product.children_of_kind("MediaImage"))
    return parse_product(
        product.fields,
        variants=[
            parse_variant(variant.fields, _bulk_levels(variant.fields))
            for variant in product.children_of_kind("ProductVariant")
        ],
        metafields=[parse_metafield(m.fields) for m in product.children_of_kind("Metafield")],
        images=[image for image in images if image is not None],
        collections=[c.fields for c in product.children_of_kind("Collection")],
    )


async def iterate_bulk_products(
    client: ShopifyClient,
    *,
    query: str | None = None,
    poll: PollPolicy = DEFAULT_POLL,
    finished: FinishSignal = sleep_only,
    parts: Collection[str] = PRODUCT_PARTS,
    expected_objects: int | None = None,
) -> AsyncIterator[RemoteProduct]:
    """Every product matching `query` (all when None), exported by one bulk query: the same
    objects `products.iterate_products` reads page by page, for catalogs too big for that.
    Inventory covers the active locations. Complete with every part; a part left out of
    `parts` (metafields, media, collections) comes back empty, and the export is shorter by a
    line per element: a reader that needs only products and variants saves most of it.
    `expected_objects`: see `run_bulk_query`."""
    locations = await list_locations(client)
    text = bulk_products_query(locations.values(), query, parts)
    exports = run_bulk_query(
        client, text, poll=poll, finished=finished, expected_objects=expected_objects
    )
    async for exported in exports:
        yield product_from_bulk(exported)


# Bulk mutation import --------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkLineResult:
    """What one input line came to. `data` is the mutation field's payload (e.g. productSet's),
    `user_errors` its userErrors; `errors` says why the line did not run at all (invalid
    variables, or Shopify wrote no result for it)."""

    index: int
    data: Mapping[str, Any] | None
    user_errors: tuple[Mapping[str, Any], ...] = ()
    errors: tuple[Mapping[str, Any], ...] = ()

    @property
    def succeeded(self) -> bool:
        return not self.user_errors and not self.errors


def line_result(index: int, record: Mapping[str, Any]) -> BulkLineResult:
    """A result line: `data` holds the one mutation field a bulk mutation may have."""
    data = record.get("data") or {}
    payload = next(iter(data.values()), None)
    user_errors = (payload or {}).get("userErrors") or ()
    return BulkLineResult(index, payload, tuple(user_errors), tuple(record.get("errors") or ()))


class MutationOutcomes:
    """Result lines by the input line they answer (`__lineNumber`, 0-based), whatever order
    they come in."""

    def __init__(self, line_count: int) -> None:
        self.line_count = line_count
        self.by_index: dict[int, BulkLineResult] = {}

    def restart(self) -> None:
        self.by_index.clear()

    def add(self, line: bytes) -> None:
        record = json.loads(line)
        index = record.get("__lineNumber")
        if not isinstance(index, int) or not 0 <= index < self.line_count:
            logger.warning("bulk result line answers no input line: %.200r", line)
            return
        self.by_index[index] = line_result(index, record)

    def results(self) -> list[BulkLineResult]:
        missing = ({"message": "Shopify wrote no result for this line"},)
        return [
            self.by_index.get(index) or BulkLineResult(index, None, errors=missing)
            for index in range(self.line_count)
        ]


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_variables(lines: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Stream each line's variables to `path` as JSONL, returning how many lines. ASCII-only
    JSON, so no character inside a value can pass for a line end."""
    count = 0
    with path.open("w", encoding="utf-8") as file:
        for variables in lines:
            file.write(json.dumps(variables, separators=(",", ":"), default=_json_default))
            file.write("\n")
            count += 1
    return count


async def _post_form(
    client: ShopifyClient, url: str, parameters: Mapping[str, str], path: Path
) -> None:
    """A browser-style form upload: every parameter the target gave, then the file, last (the
    storage ignores fields after the file)."""

    async def attempt() -> None:
        with path.open("rb") as file:
            response = await client.http.post(
                url, data=dict(parameters), files={"file": (path.name, file, JSONL_MIME_TYPE)}
            )
        _check_storage_answer(response.status_code, response.content, "Uploading bulk variables")

    await _with_storage_retries(client, "Uploading bulk variables", attempt)


async def stage_upload(client: ShopifyClient, path: Path) -> str:
    """Upload a variables file where Shopify says, returning the target's `key` parameter: the
    `stagedUploadPath` that names the file to bulkOperationRunMutation."""
    size = path.stat().st_size
    if size > MAX_VARIABLES_BYTES:
        raise ShopifyError(
            ShopifyErrorCode.BULK_OPERATION_FAILED,
            f"Bulk variables of {size} bytes exceed Shopify's {MAX_VARIABLES_BYTES}: split them",
        )
    staged_input = {
        "resource": "BULK_MUTATION_VARIABLES",
        "filename": path.name,
        "mimeType": JSONL_MIME_TYPE,
        "httpMethod": "POST",
        "fileSize": str(size),
    }
    result = await client.execute(load("staged_uploads_create"), {"input": [staged_input]})
    payload = _accepted(result.data, "stagedUploadsCreate", "stage the bulk variables")
    target = payload["stagedTargets"][0]
    parameters = {parameter["name"]: parameter["value"] for parameter in target["parameters"]}
    await _post_form(client, target["url"], parameters, path)
    return parameters["key"]


async def start_bulk_mutation(
    client: ShopifyClient, mutation: Document, staged_upload_path: str
) -> str:
    variables = {"mutation": mutation.text, "stagedUploadPath": staged_upload_path}
    result = await client.execute(load("bulk_operation_run_mutation"), variables)
    payload = _accepted(result.data, "bulkOperationRunMutation", "start the bulk mutation")
    return payload["bulkOperation"]["id"]


async def read_bulk_mutation_results(
    client: ShopifyClient, state: BulkOperationState, line_count: int
) -> list[BulkLineResult]:
    """One result per input line, in input order, from a COMPLETED operation. Apart from
    `run_bulk_mutation` so that a job woken by the finish webhook can collect them later."""
    outcomes = MutationOutcomes(line_count)
    if state.url is not None:
        await download_lines(client, state.url, outcomes)
    return outcomes.results()


async def run_bulk_mutation(
    client: ShopifyClient,
    mutation_document: Document,
    variables_per_line: Iterable[Mapping[str, Any]],
    *,
    poll: PollPolicy = DEFAULT_POLL,
    finished: FinishSignal = sleep_only,
) -> list[BulkLineResult]:
    """Run the mutation once per variables, as one bulk operation; one result per input, in
    input order. A COMPLETED operation may still hold failed lines: check each `succeeded`."""
    with tempfile.TemporaryDirectory(prefix="cowans-bulk-") as directory:
        path = Path(directory) / VARIABLES_FILENAME
        line_count = write_variables(variables_per_line, path)
        if line_count == 0:
            return []
        staged_upload_path = await stage_upload(client, path)
    operation_id = await start_bulk_mutation(client, mutation_document, staged_upload_path)
    state = await wait_for_bulk_operation(
        client, operation_id, poll=poll, finished=finished, expected_objects=line_count
    )
    return await read_bulk_mutation_results(client, state, line_count)
