"""One GraphQL request, the way Shopify handles it: parse and validate, price the query, charge
the shop's bucket (or answer THROTTLED), execute, refund the difference to the actual cost."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_directive_values, get_variable_values
from graphql.language import ListValueNode, ObjectValueNode, VariableNode

from shopify_emulator.cost import operation_cost
from shopify_emulator.schema import Context, default_field_resolver, executable_schema
from shopify_emulator.shops import Shop

MAX_QUERY_COST = 1000
MAX_INPUT_ARRAY = 250
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"


@dataclass
class Outcome:
    body: dict[str, Any]
    was_mutation: bool = False


def _error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _oversized_inputs(
    operation: OperationDefinitionNode, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """Shopify refuses any input list longer than 250, whether inline or in a variable."""
    problems: list[dict[str, Any]] = []

    def size_of(node: Any) -> int | None:
        if isinstance(node, ListValueNode):
            return len(node.values)
        if isinstance(node, VariableNode) and isinstance(variables.get(node.name.value), list):
            return len(variables[node.name.value])
        return None

    def visit_value(node: Any, path: list[str]) -> None:
        size = size_of(node)
        if size is not None and size > MAX_INPUT_ARRAY:
            problems.append(
                {
                    "message": f"The input array size of {size} is greater than the maximum "
                    f"allowed of {MAX_INPUT_ARRAY}.",
                    "path": path,
                    "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"},
                }
            )
        if isinstance(node, ObjectValueNode):
            for item in node.fields:
                visit_value(item.value, [*path, item.name.value])
        elif isinstance(node, ListValueNode):
            for item in node.values:
                visit_value(item, path)
        elif isinstance(node, VariableNode):
            visit_plain(variables.get(node.name.value), path)

    def visit_plain(value: Any, path: list[str]) -> None:
        if isinstance(value, list):
            if len(value) > MAX_INPUT_ARRAY:
                problems.append(
                    {
                        "message": f"The input array size of {len(value)} is greater than the "
                        f"maximum allowed of {MAX_INPUT_ARRAY}.",
                        "path": path,
                        "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"},
                    }
                )
            for item in value:
                visit_plain(item, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                visit_plain(item, [*path, key])

    def visit_selections(selection_set: Any, path: list[str]) -> None:
        for selection in selection_set.selections if selection_set else []:
            if isinstance(selection, FieldNode):
                field_path = [*path, selection.name.value]
                for argument in selection.arguments or ():
                    visit_value(argument.value, [*field_path, argument.name.value])
                visit_selections(selection.selection_set, field_path)

    visit_selections(operation.selection_set, [])
    return problems[:1]


# Mutations that refuse to run without `@idempotent` from 2026-04 (Shopify's changelog "Making
# idempotency mandatory for inventory adjustments"); the schema cannot express it, so it is
# checked at run time, as Shopify does.
IDEMPOTENCY_REQUIRED = frozenset({"inventorySetQuantities"})


def idempotency_middleware(
    next_: Any, source: Any, info: GraphQLResolveInfo, **arguments: Any
) -> Any:
    """`@idempotent(key:)` on a mutation field: a replayed key returns the first result and
    applies nothing; the same key with different arguments is refused."""
    if info.parent_type.name != "Mutation":
        return next_(source, info, **arguments)
    directive = info.schema.get_directive("idempotent")
    values = (
        get_directive_values(directive, info.field_nodes[0], info.variable_values)
        if directive
        else None
    )
    if not values:
        if info.field_name in IDEMPOTENCY_REQUIRED:
            raise GraphQLError(
                f"The @idempotent directive is required for {info.field_name} "
                "from API version 2026-04.",
                extensions={"code": "BAD_REQUEST"},
            )
        return next_(source, info, **arguments)
    key = values["key"]
    if not key.strip():
        raise GraphQLError("The idempotency key cannot be an empty string or whitespace only.")
    context: Context = info.context
    store = context.shop.data.idempotency
    scoped = f"{info.field_name}:{key}"
    fingerprint = json.dumps(arguments, sort_keys=True, default=str)
    if scoped in store:
        first_fingerprint, first_result = store[scoped]
        if first_fingerprint != fingerprint:
            return _key_reused_with_other_arguments(info.field_name)
        context.shop.counters["idempotent_replays"] += 1
        return first_result
    result = next_(source, info, **arguments)
    store[scoped] = (fingerprint, result)
    return result


def _key_reused_with_other_arguments(field_name: str) -> Any:
    message = "The same idempotency key was used with different parameters."
    if field_name == "inventorySetQuantities":
        return {
            "inventoryAdjustmentGroup": None,
            "userErrors": [
                {"field": None, "message": message, "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}
            ],
        }
    raise GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def run(
    shop: Shop,
    base_url: str,
    query: Any,
    variables: Any,
    operation_name: Any,
    *,
    options: Any = None,
    cost_debug: bool = False,
) -> Outcome:
    schema = executable_schema()
    if not isinstance(query, str) or not query.strip():
        return Outcome({"errors": [{"message": "No query string was present"}]})
    try:
        document = parse(query)
    except GraphQLError as exc:
        return Outcome({"errors": [exc.formatted]})
    validation_errors = validate(schema, document)
    if validation_errors:
        return Outcome({"errors": [e.formatted for e in validation_errors]})
    operation = _operation(document, operation_name if isinstance(operation_name, str) else None)
    if operation is None:
        return Outcome({"errors": [{"message": "An operation name is required"}]})
    raw_variables = variables if isinstance(variables, dict) else {}
    coerced = get_variable_values(schema, operation.variable_definitions or [], raw_variables)
    if isinstance(coerced, list):
        return Outcome({"errors": [e.formatted for e in coerced]})
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    is_mutation = operation.operation.value == "mutation"
    oversized = _oversized_inputs(operation, coerced.coerced)
    if oversized:
        return Outcome({"errors": oversized}, is_mutation)

    requested = operation_cost(schema, operation, fragments, coerced, debug=cost_debug)
    if requested.total > MAX_QUERY_COST:
        message = (
            f"Query cost is {requested.total}, which exceeds the single query max cost limit "
            f"({MAX_QUERY_COST}).\n\nSee {RATE_LIMIT_DOCS} for more information on how the cost "
            "of a query is calculated.\n\nTo query larger amounts of data with fewer limits, "
            "bulk operations should be used instead."
        )
        shop.counters["max_cost_exceeded"] += 1
        return Outcome(
            {
                "errors": [
                    _error(
                        message,
                        "MAX_COST_EXCEEDED",
                        cost=requested.total,
                        maxCost=MAX_QUERY_COST,
                        documentation=RATE_LIMIT_DOCS,
                    )
                ]
            },
            is_mutation,
        )
    forced = shop.faults.roll(shop.faults.throttle)
    if forced:
        shop.counters["faults_throttle"] += 1
    if forced or not shop.bucket.try_take(requested.total):
        shop.counters["throttled"] += 1
        return Outcome(
            {
                "errors": [_error("Throttled", "THROTTLED", documentation=RATE_LIMIT_DOCS)],
                "extensions": {"cost": _cost_extension(shop, requested.total, None, None)},
            },
            is_mutation,
        )

    context = Context(shop=shop, base_url=base_url, options=options)
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=raw_variables,
        operation_name=operation.name.value if operation.name else None,
        field_resolver=default_field_resolver,
        middleware=[idempotency_middleware],
    )
    assert isinstance(result, ExecutionResult)
    if is_mutation:  # per mutation field, for the side door's counters and state autosave
        shop.counters.update(
            f"mutation:{node.name.value}"
            for node in operation.selection_set.selections
            if isinstance(node, FieldNode)
        )
    actual = operation_cost(schema, operation, fragments, coerced, data=result.data or {}).total
    actual = min(actual, requested.total)
    shop.bucket.refund(requested.total - actual)
    shop.counters["points_spent"] += actual
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    body["data"] = result.data
    debug_fields = [f.as_debug() for f in requested.fields] if cost_debug else None
    body["extensions"] = {"cost": _cost_extension(shop, requested.total, actual, debug_fields)}
    return Outcome(body, is_mutation)


def prepare(query: Any) -> DocumentNode | list[dict[str, Any]]:
    """Parse and validate a document once, for callers that execute it many times over (a bulk
    operation runs its document once per page or per input line). Returns the errors instead."""
    if not isinstance(query, str) or not query.strip():
        return [{"message": "No query string was present"}]
    try:
        document = parse(query)
    except GraphQLError as exc:
        return [exc.formatted]
    errors = validate(executable_schema(), document)
    return [error.formatted for error in errors] if errors else document


def run_unmetered(
    shop: Shop,
    base_url: str,
    document: DocumentNode,
    variables: Any,
    options: Any = None,
    *,
    middleware: Sequence[Any] = (),
) -> dict[str, Any]:
    """Execute a document from `prepare` the way Shopify runs a bulk operation's work: inside
    Shopify, so no cost is computed and the shop's bucket is neither charged nor checked; the
    operation's starting mutation was the only metered request. Variable and input-size errors
    still apply, one document at a time."""
    schema = executable_schema()
    operation = _operation(document, None)
    if operation is None:
        return {"errors": [{"message": "An operation name is required"}]}
    raw_variables = variables if isinstance(variables, dict) else {}
    coerced = get_variable_values(schema, operation.variable_definitions or [], raw_variables)
    if isinstance(coerced, list):
        return {"errors": [e.formatted for e in coerced]}
    oversized = _oversized_inputs(operation, coerced.coerced)
    if oversized:
        return {"errors": oversized}
    result = execute(
        schema,
        document,
        context_value=Context(shop=shop, base_url=base_url, options=options),
        variable_values=raw_variables,
        operation_name=operation.name.value if operation.name else None,
        field_resolver=default_field_resolver,
        middleware=[idempotency_middleware, *middleware],
    )
    assert isinstance(result, ExecutionResult)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    return body


def internal_error_body() -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {
        "errors": [
            _error(
                "Internal error. Looks like something went wrong on our end.\n"
                f"Request ID: {request_id} (include this in support requests).",
                "INTERNAL_SERVER_ERROR",
                requestId=request_id,
            )
        ]
    }


def _cost_extension(
    shop: Shop, requested: int, actual: int | None, fields: list[dict[str, Any]] | None
) -> dict[str, Any]:
    cost: dict[str, Any] = {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": shop.bucket.status(),
    }
    if fields is not None:
        cost["fields"] = fields
    return cost
