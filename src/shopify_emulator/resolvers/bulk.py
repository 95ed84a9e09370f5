"""Bulk operations and staged uploads: starting, canceling and listing operations (their work
runs in `shopify_emulator.bulk`), and handing out upload targets (served by `uploads`)."""

import zlib
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator import bulk, uploads
from shopify_emulator.catalog import user_error
from shopify_emulator.ids import number_of
from shopify_emulator.pagination import paginate
from shopify_emulator.schema import context_of, resolver, shop_of
from shopify_emulator.search import Fields, parse
from shopify_emulator.shops import Shop
from shopify_emulator.state import BulkOperation, iso

# Shopify requires the size up front for these, to reserve the space.
SIZED_RESOURCES = frozenset({"VIDEO", "MODEL_3D"})

BULK_OPERATION_FIELDS: Fields = {
    "status": lambda op: op.status,
    "operation_type": lambda op: op.type,
    "created_at": lambda op: op.created_at,
    "id": lambda op: op.number,
}
BULK_OPERATION_SORTS = {
    "CREATED_AT": lambda op: iso(op.created_at),
    "COMPLETED_AT": lambda op: iso(op.completed_at),
}


# Staged uploads -------------------------------------------------------------------------------


def _shop_id(shop: Shop) -> int:
    """The shop's numeric id, as `QueryRoot.shop` shows it; Shopify's keys start with it."""
    return zlib.crc32(shop.name.encode())


@resolver("Mutation", "stagedUploadsCreate")
def resolve_staged_uploads_create(
    _root: Any, info: GraphQLResolveInfo, input: list[dict[str, Any]]
) -> dict[str, Any]:
    shop, base_url = shop_of(info), context_of(info).base_url
    errors = [
        user_error(["input", index, "fileSize"], "File size is required for this resource.")
        for index, item in enumerate(input)
        if item["resource"] in SIZED_RESOURCES and item.get("fileSize") is None
    ]
    if errors:
        return {"stagedTargets": None, "userErrors": errors}
    targets = []
    for item in input:
        bulk_variables = item["resource"] == "BULK_MUTATION_VARIABLES"
        key = uploads.new_key(_shop_id(shop), item["filename"], bulk=bulk_variables)
        target = uploads.staged_target(
            shop.name, base_url, key, item["mimeType"], item.get("httpMethod") or "PUT"
        )
        targets.append(
            {"url": target.url, "resourceUrl": target.resource_url, "parameters": target.parameters}
        )
    return {"stagedTargets": targets, "userErrors": []}


# Starting and canceling -----------------------------------------------------------------------


def _refused(field: str | None, message: str, code: str) -> dict[str, Any]:
    return {
        "bulkOperation": None,
        "userErrors": [user_error([field] if field else None, message, code)],
    }


def _limit_reached() -> dict[str, Any]:
    return _refused(
        None,
        f"This shop already runs {bulk.MAX_RUNNING} bulk operations: wait for one to finish "
        "or cancel one.",
        "LIMIT_REACHED",
    )


def _start(info: GraphQLResolveInfo, operation: BulkOperation) -> dict[str, Any]:
    context = context_of(info)
    bulk.start(context.shop, context.base_url, context.options, operation)
    return {"bulkOperation": operation, "userErrors": []}


@resolver("Mutation", "bulkOperationRunQuery")
def resolve_run_query(
    _root: Any, info: GraphQLResolveInfo, query: str, groupObjects: bool = False
) -> dict[str, Any]:
    shop = shop_of(info)
    problem = bulk.check_query(query)
    if problem:
        return _refused("query", problem, "INVALID")
    if bulk.active_count(shop) >= bulk.MAX_RUNNING:
        return _limit_reached()
    operation = BulkOperation(shop.data.next_number(), "QUERY", query, group_objects=groupObjects)
    return _start(info, operation)


@resolver("Mutation", "bulkOperationRunMutation")
def resolve_run_mutation(
    _root: Any,
    info: GraphQLResolveInfo,
    mutation: str,
    stagedUploadPath: str,
    clientIdentifier: str | None = None,
    groupObjects: bool = True,
) -> dict[str, Any]:
    """`clientIdentifier` is accepted and not kept: 2026-10 offers no way to query by it."""
    del clientIdentifier
    shop = shop_of(info)
    problem = bulk.check_mutation(mutation)
    if problem:
        return _refused("mutation", problem, "INVALID_MUTATION")
    if stagedUploadPath not in shop.data.staged_uploads:
        return _refused(
            "stagedUploadPath",
            "The staged upload file was not found: upload it to the target stagedUploadsCreate "
            "returned, then pass that target's `key` parameter.",
            "NO_SUCH_FILE",
        )
    if bulk.active_count(shop) >= bulk.MAX_RUNNING:
        return _limit_reached()
    operation = BulkOperation(
        shop.data.next_number(),
        "MUTATION",
        mutation,
        staged_upload_path=stagedUploadPath,
        group_objects=groupObjects,
    )
    return _start(info, operation)


def _find(info: GraphQLResolveInfo, operation_id: str) -> BulkOperation | None:
    number = number_of(operation_id, "BulkOperation")
    return shop_of(info).data.bulk_operations.get(number) if number is not None else None


@resolver("Mutation", "bulkOperationCancel")
def resolve_cancel(_root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    operation = _find(info, id)
    if operation is None:
        return {
            "bulkOperation": None,
            "userErrors": [user_error(["id"], "Bulk operation does not exist")],
        }
    if operation.status not in ("CREATED", "RUNNING"):
        message = f"A bulk operation cannot be canceled when it is {operation.status.lower()}"
        return {"bulkOperation": operation, "userErrors": [user_error(None, message)]}
    bulk.request_cancel(operation)
    return {"bulkOperation": operation, "userErrors": []}


# Reading --------------------------------------------------------------------------------------


@resolver("QueryRoot", "bulkOperation")
def resolve_bulk_operation(_root: Any, info: GraphQLResolveInfo, id: str) -> BulkOperation | None:
    return _find(info, id)


@resolver("QueryRoot", "bulkOperations")
def resolve_bulk_operations(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Newest first unless `reverse`, as Shopify lists them."""
    operations = parse(args.get("query"), BULK_OPERATION_FIELDS, "status").filter(
        shop_of(info).data.bulk_operations.values()
    )
    return paginate(
        operations,
        sort_value=BULK_OPERATION_SORTS[args.get("sortKey") or "CREATED_AT"],
        first=args.get("first"),
        last=args.get("last"),
        after=args.get("after"),
        before=args.get("before"),
        reverse=not args.get("reverse"),
    )


@resolver("QueryRoot", "currentBulkOperation")
def resolve_current_bulk_operation(
    _root: Any, info: GraphQLResolveInfo, type: str = "QUERY"
) -> BulkOperation | None:
    """The most recent operation of the type, whatever its status."""
    operations = [op for op in shop_of(info).data.bulk_operations.values() if op.type == type]
    return max(operations, key=lambda op: op.number, default=None)
