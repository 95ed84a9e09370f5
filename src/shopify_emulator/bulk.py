"""Bulk operations, run the way Shopify runs them: in the background, at a steady pace, free of
the rate limit, with the results written as JSONL behind a signed link.

What this reproduces (shopify.dev: "Perform bulk operations with the GraphQL Admin API",
"Bulk import data with the GraphQL Admin API", the BulkOperation reference, changelog "Faster
bulk operations", 2026-01):
- from 2026-01, up to five bulk operations per shop run at once (LIMIT_REACHED beyond that);
- a bulk query has one top-level field and at least one connection, at most five connections,
  nested at most two deep; `node`/`nodes` cannot be its top-level field; page sizes are ignored,
  every object is exported;
- the export puts each connection node on a line of its own, without its nested connections,
  whose nodes follow on lines of their own carrying `__parentId`: always after their parent,
  directly after it only with `groupObjects`;
- a bulk mutation runs one mutation field once per line of the staged JSONL file, each line
  holding that run's variables; each result line carries the 0-based `__lineNumber` of its
  input line, and an operation whose lines failed still COMPLETES;
- status goes CREATED -> RUNNING -> COMPLETED (or FAILED, or CANCELING -> CANCELED), and the
  result link expires seven days after the operation finishes; `url` is null when nothing was
  written, and a failed or canceled operation offers what it wrote as `partialDataUrl`;
- finishing emits the `bulk_operations/finish` webhook.
Shopify's JSONL escapes `/` inside strings (`gid:\\/\\/shopify\\/Product\\/1`); so does this.

Each operation runs as an asyncio task on the server's loop, taking `bulk_rows_per_second` as
its pace: it works a chunk of rows, then sleeps as long as those rows were worth, so requests
are served in between. Nothing it executes is priced or charged to the shop's bucket.
"""

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

from shopify_emulator import executor, uploads
from shopify_emulator.pagination import MAX_PAGE_SIZE, Connection
from shopify_emulator.schema import executable_schema
from shopify_emulator.shops import Shop
from shopify_emulator.state import BulkOperation, iso, now

log = logging.getLogger(__name__)

MAX_RUNNING = 5
MAX_CONNECTIONS = 5
MAX_CONNECTION_DEPTH = 2
ACTIVE_STATUSES = frozenset({"CREATED", "RUNNING", "CANCELING"})
# Mutations that cannot run inside a bulk operation: they are the bulk machinery itself.
NOT_BULKABLE = frozenset(
    {"bulkOperationRunQuery", "bulkOperationRunMutation", "bulkOperationCancel"}
)
# A chunk is about this long at the configured pace, and never more rows than this.
CHUNK_SECONDS = 0.05
MAX_CHUNK_ROWS = 250
DEFAULT_ROWS_PER_SECOND = 5000.0
CANCEL_CHECK_SECONDS = 0.05

Path = tuple[str | int, ...]

_TASKS: set[asyncio.Task[None]] = set()


# Checking a document before it runs ------------------------------------------------------------


def _single_operation(document: DocumentNode, kind: str) -> OperationDefinitionNode | str:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return "The document must contain exactly one operation."
    if operations[0].operation.value != kind:
        return f"The document's operation must be a {kind}."
    return operations[0]


def _fields(
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Iterator[tuple[FieldNode, GraphQLNamedType]]:
    """Every field selected on `parent`, through fragments, with the type that declares it."""
    schema = executable_schema()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection, parent
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            owner = schema.get_type(condition.name.value) if condition else parent
            yield from _fields(owner or parent, selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            owner = schema.get_type(fragment.type_condition.name.value)
            yield from _fields(owner or parent, fragment.selection_set, fragments)


def is_connection(named: GraphQLNamedType) -> bool:
    fields = getattr(named, "fields", None)
    return bool(fields) and named.name.endswith("Connection") and "pageInfo" in fields


def _connection_depths(
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    depth: int = 0,
) -> list[int]:
    """The nesting depth of every connection selected below `parent` (a top-level one is 1)."""
    depths: list[int] = []
    for node, owner in _fields(parent, selection_set, fragments) if selection_set else ():
        definition = getattr(owner, "fields", {}).get(node.name.value)
        if definition is None:
            continue
        named = get_named_type(definition.type)
        inner = depth + 1 if is_connection(named) else depth
        if inner > depth:
            depths.append(inner)
        depths += _connection_depths(named, node.selection_set, fragments, inner)
    return depths


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _top_level(
    document: DocumentNode, kind: str
) -> tuple[list[tuple[FieldNode, GraphQLNamedType]], dict[str, FragmentDefinitionNode]] | str:
    operation = _single_operation(document, kind)
    if isinstance(operation, str):
        return operation
    fragments = _fragments(document)
    root = executable_schema().get_root_type(operation.operation)
    assert root is not None
    fields = [
        (node, owner)
        for node, owner in _fields(root, operation.selection_set, fragments)
        if node.name.value != "__typename"
    ]
    return fields, fragments


def check_query(text: str) -> str | None:
    """Why Shopify would refuse this bulk query, or None."""
    document = executor.prepare(text)
    if isinstance(document, list):
        return f"Invalid bulk query: {document[0]['message']}"
    top = _top_level(document, "query")
    if isinstance(top, str):
        return top
    fields, fragments = top
    if len(fields) != 1:
        return "Bulk queries must have exactly one top-level field."
    (node, owner) = fields[0]
    if node.name.value in ("node", "nodes"):
        return "The top-level `node` and `nodes` fields can't be used in bulk queries."
    depths = _connection_depths(owner, SelectionSetNode(selections=(node,)), fragments)
    if not depths:
        return "Bulk queries must contain at least one connection."
    if len(depths) > MAX_CONNECTIONS:
        return f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    if max(depths) > MAX_CONNECTION_DEPTH:
        return f"Bulk queries cannot nest connections more than {MAX_CONNECTION_DEPTH} levels deep."
    return None


def check_mutation(text: str) -> str | None:
    """Why Shopify would refuse this bulk mutation, or None."""
    document = executor.prepare(text)
    if isinstance(document, list):
        return f"Invalid bulk mutation: {document[0]['message']}"
    top = _top_level(document, "mutation")
    if isinstance(top, str):
        return top
    fields, fragments = top
    if len(fields) != 1:
        return "Bulk mutations must contain exactly one mutation field."
    (node, owner) = fields[0]
    if node.name.value in NOT_BULKABLE:
        return f"`{node.name.value}` can't be run as a bulk mutation."
    depths = _connection_depths(owner, SelectionSetNode(selections=(node,)), fragments)
    if len(depths) > 1:
        return "Bulk mutations cannot contain more than 1 connection."
    return None


# Starting, pacing, canceling, finishing ---------------------------------------------------


def active_count(shop: Shop) -> int:
    return sum(op.status in ACTIVE_STATUSES for op in shop.data.bulk_operations.values())


def start(shop: Shop, base_url: str, options: Any, operation: BulkOperation) -> None:
    """Run the operation in the background, on the server's loop (the caller is a resolver)."""
    shop.data.bulk_operations[operation.number] = operation
    task = asyncio.get_running_loop().create_task(
        _run(shop, base_url, options, operation), name=f"bulk-{operation.number}"
    )
    _TASKS.add(task)  # the loop keeps only a weak reference
    task.add_done_callback(_TASKS.discard)


def request_cancel(operation: BulkOperation) -> None:
    """The runner stops at its next chunk; until then the operation shows CANCELING."""
    operation.cancel_requested = True
    operation.status = "CANCELING"


class _Canceled(Exception):
    pass


class _Pacer:
    """Holds an operation to `rows_per_second`: after each chunk it sleeps as long as the
    chunk's rows were worth, which is also what lets the server answer requests meanwhile."""

    def __init__(self, operation: BulkOperation, rows_per_second: float) -> None:
        self.operation = operation
        self.rate = rows_per_second if rows_per_second > 0 else float("inf")
        self.chunk = max(1, min(MAX_CHUNK_ROWS, int(min(self.rate, 1e9) * CHUNK_SECONDS)))
        self.pending = 0

    async def spend(self, rows: int, *, force: bool = False) -> None:
        self.pending += rows
        if force or self.pending >= self.chunk:
            await self._sleep(self.pending / self.rate)
            self.pending = 0
        if self.operation.cancel_requested:
            raise _Canceled

    async def _sleep(self, seconds: float) -> None:
        """Sleep in slices, so a cancel takes effect promptly even at a slow pace."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        await asyncio.sleep(0)
        while not self.operation.cancel_requested and (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(left, CANCEL_CHECK_SECONDS))


async def _run(shop: Shop, base_url: str, options: Any, operation: BulkOperation) -> None:
    rate = getattr(options, "bulk_rows_per_second", DEFAULT_ROWS_PER_SECOND)
    pacer = _Pacer(operation, rate)
    output = bytearray()
    try:
        await pacer.spend(0, force=True)
        operation.status = "RUNNING"
        if operation.type == "QUERY":
            await _export(shop, base_url, options, operation, pacer, output)
        else:
            await _import(shop, base_url, options, operation, pacer, output)
    except _Canceled:
        _finish(shop, base_url, operation, "CANCELED", output)
    except Exception:
        log.exception("bulk operation %s failed", operation.id)
        _finish(shop, base_url, operation, "FAILED", output, "INTERNAL_SERVER_ERROR")
    else:
        _finish(shop, base_url, operation, "COMPLETED", output)


def _finish(
    shop: Shop,
    base_url: str,
    operation: BulkOperation,
    status: str,
    output: bytearray,
    error_code: str | None = None,
) -> None:
    operation.status, operation.error_code = status, error_code
    operation.completed_at = now()
    if output:
        shop.data.bulk_results[operation.number] = bytes(output)
        link = uploads.result_url(
            shop.name, base_url, operation.number, operation.completed_at + uploads.RESULT_TTL
        )
        if status == "COMPLETED":
            operation.url, operation.file_size = link, len(output)
        else:
            operation.partial_data_url = link
    shop.emit(
        "bulk_operations/finish",
        {
            "admin_graphql_api_id": operation.id,
            "completed_at": iso(operation.completed_at),
            "created_at": iso(operation.created_at),
            "error_code": error_code.lower() if error_code else None,
            "status": status.lower(),
            "type": operation.type.lower(),
        },
    )


def _jsonl(value: dict[str, Any]) -> bytes:
    """One line as Shopify writes it: compact, UTF-8, `/` escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")
    return f"{text}\n".encode()


# Query export -------------------------------------------------------------------------------


@dataclass
class _Trace:
    """What executing one page of an export revealed beyond its data: the id behind every
    connection node (by its connection's response path) and where the root page ended."""

    connections: dict[Path, list[str | None]] = field(default_factory=dict)
    root_id: str | None = None
    has_next: bool = False
    end_cursor: str | None = None


class _ExportMiddleware:
    """Pages the top-level connection from `after`, `page_size` nodes at a time, and resolves
    every nested connection whole, whatever `first` the query asked for."""

    def __init__(self, page_size: int, after: str | None) -> None:
        self.page_size = page_size
        self.after = after
        self.trace = _Trace()

    def resolve(self, next_: Any, source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        top_level = info.path.prev is None
        if not is_connection(get_named_type(info.return_type)):
            result = next_(source, info, **args)
            if top_level:
                self.trace.root_id = _id_of(result)
            return result
        if top_level:
            connection = next_(source, info, **_page_args(args, self.page_size, self.after))
            self.trace.has_next = connection.page_info["hasNextPage"]
            self.trace.end_cursor = connection.page_info["endCursor"]
        else:
            connection = _whole_connection(next_, source, info, args)
        self.trace.connections[tuple(info.path.as_list())] = [
            _id_of(node) for node in connection.nodes
        ]
        return connection


def _id_of(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else getattr(value, "id", None)


def _page_args(args: dict[str, Any], size: int, after: str | None) -> dict[str, Any]:
    kept = {k: v for k, v in args.items() if k not in ("first", "last", "after", "before")}
    return {**kept, "first": size, "after": after}


def _whole_connection(
    next_: Any, source: Any, info: GraphQLResolveInfo, args: dict[str, Any]
) -> Connection:
    items: list[Any] = []
    cursors: list[str] = []
    after = None
    while True:
        page = next_(source, info, **_page_args(args, MAX_PAGE_SIZE, after))
        items += page.nodes
        cursors += [edge["cursor"] for edge in page.edges]
        if not page.page_info["hasNextPage"]:
            return Connection(items, cursors, False, False)
        after = page.page_info["endCursor"]


async def _export(
    shop: Shop,
    base_url: str,
    options: Any,
    operation: BulkOperation,
    pacer: _Pacer,
    output: bytearray,
) -> None:
    """Execute the query one page of top-level objects at a time, writing each page's lines
    before the next page is read."""
    document = executor.prepare(operation.query)
    assert not isinstance(document, list), "checked when the operation was created"
    after: str | None = None
    while True:
        middleware = _ExportMiddleware(pacer.chunk, after)
        body = executor.run_unmetered(
            shop, base_url, document, {}, options, middleware=[middleware]
        )
        root = _root_entry(body.get("data"))
        if root is None and body.get("errors"):
            raise RuntimeError(f"bulk query page failed: {body['errors']}")
        lines = _export_lines(root, middleware.trace) if root else []
        if not operation.group_objects:
            lines.sort(key=lambda line: line[0])  # stable: parents first, each level in order
        for depth, line in lines:
            output += _jsonl(line)
            operation.object_count += 1
            operation.root_object_count += int(depth == 0)
        await pacer.spend(len(lines), force=True)
        if not middleware.trace.has_next:
            return
        after = middleware.trace.end_cursor


def _root_entry(data: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """The one top-level field's response key and value (a `__typename` beside it aside)."""
    for key, value in (data or {}).items():
        if isinstance(value, dict):
            return key, value
    return None


def _export_lines(
    root: tuple[str, dict[str, Any]], trace: _Trace
) -> list[tuple[int, dict[str, Any]]]:
    """(depth, line) for one page, each child right after its parent (grouped order)."""
    key, value = root
    lines: list[tuple[int, dict[str, Any]]] = []
    if (key,) in trace.connections:
        _connection_lines(value, (key,), None, 0, trace, lines)
    elif isinstance(value, dict):
        _object_lines(value, (key,), trace.root_id, None, 0, trace, lines)
    return lines


def _connection_lines(
    value: Any,
    path: Path,
    parent_id: str | None,
    depth: int,
    trace: _Trace,
    lines: list[tuple[int, dict[str, Any]]],
) -> None:
    if not isinstance(value, dict):
        return
    if "edges" in value:
        nodes = [
            ((*path, "edges", i, "node"), edge.get("node")) for i, edge in enumerate(value["edges"])
        ]
    else:
        nodes = [((*path, "nodes", i), node) for i, node in enumerate(value.get("nodes") or [])]
    ids = trace.connections.get(path, [])
    for index, (node_path, node) in enumerate(nodes):
        if isinstance(node, dict):
            own_id = ids[index] if index < len(ids) else None
            _object_lines(node, node_path, own_id, parent_id, depth, trace, lines)


def _object_lines(
    value: dict[str, Any],
    path: Path,
    own_id: str | None,
    parent_id: str | None,
    depth: int,
    trace: _Trace,
    lines: list[tuple[int, dict[str, Any]]],
) -> None:
    children: list[tuple[Path, Any]] = []
    line = _without_connections(value, path, trace, children)
    if parent_id is not None:
        line["__parentId"] = parent_id
    lines.append((depth, line))
    for child_path, child in children:
        _connection_lines(child, child_path, own_id, depth + 1, trace, lines)


def _without_connections(
    value: Any, path: Path, trace: _Trace, children: list[tuple[Path, Any]]
) -> Any:
    """A copy of the object minus its nested connections (set aside in `children`), which
    become lines of their own, even from inside a nested non-connection object."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            item_path = (*path, key)
            if item_path in trace.connections:
                children.append((item_path, item))
            else:
                kept[key] = _without_connections(item, item_path, trace, children)
        return kept
    if isinstance(value, list):
        return [
            _without_connections(item, (*path, index), trace, children)
            for index, item in enumerate(value)
        ]
    return value


# Mutation import ----------------------------------------------------------------------------


def _input_lines(content: bytes) -> Iterator[tuple[int, bytes]]:
    """(0-based line number, line) without copying the file into a list of lines."""
    start, number = 0, 0
    while start < len(content):
        end = content.find(b"\n", start)
        end = len(content) if end == -1 else end
        yield number, content[start:end]
        number, start = number + 1, end + 1


def _import_line(
    shop: Shop, base_url: str, document: DocumentNode, raw: bytes, options: Any
) -> dict[str, Any]:
    """One run of the mutation; a line that is not a JSON object of variables is reported on
    its own result line and the import goes on."""
    try:
        variables = json.loads(raw)
    except ValueError as exc:
        return {"errors": [{"message": f"Invalid JSONL line: {exc}"}]}
    if not isinstance(variables, dict):
        return {"errors": [{"message": "Each JSONL line must be an object of variables."}]}
    return executor.run_unmetered(shop, base_url, document, variables, options)


async def _import(
    shop: Shop,
    base_url: str,
    options: Any,
    operation: BulkOperation,
    pacer: _Pacer,
    output: bytearray,
) -> None:
    document = executor.prepare(operation.query)
    assert not isinstance(document, list), "checked when the operation was created"
    content = shop.data.staged_uploads.get(operation.staged_upload_path or "")
    if content is None:
        raise RuntimeError(f"staged file {operation.staged_upload_path} vanished")
    for number, raw in _input_lines(content):
        if not raw.strip():
            continue
        result = _import_line(shop, base_url, document, raw, options)
        output += _jsonl({**result, "__lineNumber": number})
        operation.object_count += 1
        operation.root_object_count += 1
        await pacer.spend(1)
