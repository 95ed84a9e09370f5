"""Query cost, as Shopify computes it: requested (static, before execution) and actual (after).

Rules (shopify.dev, "GraphQL Admin API rate limits" and the 2025-10/2026-09 changelogs):
- scalar and enum fields cost 0, an object 1, a connection 2 plus its page size times the cost of
  one node (the node itself 1, plus its selections); nested connections multiply;
- an abstract type (interface) costs the most expensive of its possible selections;
- a mutation field costs 10 plus its dynamic per-item additions (productSet, productCreate/Update,
  productVariantsBulkCreate/Update, metafieldsSet), plus what its payload selects;
- actual cost counts the nodes a connection really returned; the difference is refunded.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values

from shopify_emulator.ids import parse_gid

MUTATION_BASE_COST = 10
METAFIELD_OWNER_WEIGHTS = {
    "Order": 10,
    "Product": 4,
    "ProductVariant": 2,
    "Collection": 1,
    "Customer": 1,
    "Shop": 1,
}


@dataclass
class FieldCost:
    path: list[str]
    defined_cost: int
    total: float
    children: float

    def as_debug(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "definedCost": self.defined_cost,
            "requestedTotalCost": round(self.total),
            "requestedChildrenCost": round(self.children),
        }


@dataclass
class CostReport:
    total: int
    fields: list[FieldCost] = field(default_factory=list)


def _round(points: float) -> int:
    return math.floor(points + 0.5)


def _size(list_value: Any) -> int:
    return len(list_value) if isinstance(list_value, list) else 0


def mutation_cost(name: str, args: Mapping[str, Any]) -> int:
    """A mutation field's own cost, from its arguments (the payload's selections come on top)."""
    extra = 0.0
    if name == "productSet":
        product = args.get("input") or {}
        variants = product.get("variants") or []
        extra = (
            0.2 * len(variants)
            + 0.6 * sum(1 for v in variants if v.get("file"))
            + 0.4 * sum(_size(v.get("metafields")) for v in variants)
            + 0.4 * _size(product.get("metafields"))
            + 1.9 * _size(product.get("files"))
        )
    elif name in ("productCreate", "productUpdate"):
        product = args.get("product") or {}
        extra = 0.4 * _size(product.get("metafields")) + 1.9 * _size(args.get("media"))
    elif name in ("productVariantsBulkCreate", "productVariantsBulkUpdate"):
        variants = args.get("variants") or []
        extra = (
            0.2 * len(variants)
            + 0.6 * sum(_size(v.get("mediaSrc")) for v in variants)
            + 0.4 * sum(_size(v.get("metafields")) for v in variants)
            + 1.9 * _size(args.get("media"))
        )
    elif name == "metafieldsSet":
        owners = {m.get("ownerId") for m in args.get("metafields") or []}
        kinds = [parsed[0] for owner in owners if (parsed := parse_gid(owner or ""))]
        extra = sum(METAFIELD_OWNER_WEIGHTS.get(kind, 0) for kind in kinds)
    return _round(MUTATION_BASE_COST + extra)


class CostCalculator:
    """Walks one operation. With `data` it prices what was returned, else what was asked."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        debug: bool = False,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.debug = debug
        self.report_fields: list[FieldCost] = []

    def operation(self, operation: OperationDefinitionNode, data: Any = None) -> CostReport:
        root = self.schema.get_root_type(operation.operation)
        assert root is not None
        is_mutation = operation.operation.value == "mutation"
        total = self.selection_set(root, operation.selection_set, data, [], is_mutation)
        return CostReport(_round(total), self.report_fields)

    def selection_set(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        data: Any,
        path: list[str],
        is_mutation_root: bool = False,
    ) -> float:
        if selection_set is None:
            return 0.0
        common = 0.0
        by_type: dict[str, float] = {}
        for node, condition in self._fields(parent, selection_set):
            cost = self.field(
                parent if condition is None else condition, node, data, path, is_mutation_root
            )
            if condition is None or condition is parent:
                common += cost
            else:
                by_type[condition.name] = by_type.get(condition.name, 0.0) + cost
        if not by_type:
            return common
        if data is not None and isinstance(data, dict) and "__typename" in data:
            return common + by_type.get(data["__typename"], 0.0)
        return common + max(by_type.values())

    def _fields(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        condition: GraphQLNamedType | None = None,
    ) -> list[tuple[FieldNode, GraphQLNamedType | None]]:
        found: list[tuple[FieldNode, GraphQLNamedType | None]] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found.append((selection, condition))
            elif isinstance(selection, InlineFragmentNode):
                typed = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else condition
                )
                found += self._fields(parent, selection.selection_set, typed)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                typed = self.schema.get_type(fragment.type_condition.name.value)
                found += self._fields(parent, fragment.selection_set, typed)
        return found

    def field(
        self,
        parent: GraphQLNamedType,
        node: FieldNode,
        data: Any,
        path: list[str],
        is_mutation_root: bool,
    ) -> float:
        name = node.name.value
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if name.startswith("__") or definition is None:
            return 0.0
        key = node.alias.value if node.alias else name
        actual = data is not None
        value = data.get(key) if isinstance(data, dict) else None
        args = get_argument_values(definition, node, self.variables)
        return_type = get_named_type(definition.type)
        field_path = [*path, key]
        if is_mutation_root:
            own = mutation_cost(name, args)
            children = self._children(return_type, node, value, actual, field_path)
            return self._record(field_path, own, own + children, children)
        if is_leaf_type(return_type):
            return 0.0
        if self._is_connection(return_type):
            nodes = self._connection_nodes(return_type, node, value, actual, args, field_path)
            return self._record(field_path, 2, 2 + nodes, nodes)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            items = value if actual and isinstance(value, list) else None
            # A list costs per item: as many as `ids` names, or as `first` allows.
            count = (
                len(items)
                if items is not None
                else (_size(args.get("ids")) or args.get("first") or args.get("last") or 1)
            )
            total = sum(
                1 + self._children(return_type, node, item, actual, field_path)
                for item in (items if items is not None else [None] * count)
            )
            return self._record(field_path, 1, total, total - count)
        children = self._children(return_type, node, value, actual, field_path)
        return self._record(field_path, 1, 1 + children, children)

    def _children(
        self, named: GraphQLNamedType, node: FieldNode, value: Any, actual: bool, path: list[str]
    ) -> float:
        if actual and value is None:
            return 0.0
        return self.selection_set(named, node.selection_set, value if actual else None, path)

    def _connection_nodes(
        self,
        connection: GraphQLNamedType,
        node: FieldNode,
        value: Any,
        actual: bool,
        args: dict[str, Any],
        path: list[str],
    ) -> float:
        """Cost of the nodes: each node 1 plus what edges.node and nodes select of it."""
        fields = connection.fields  # type: ignore[attr-defined]
        node_type = get_named_type(fields["nodes"].type)
        edge_type = get_named_type(fields["edges"].type)
        selections: list[tuple[str, SelectionSetNode | None]] = []
        for selection, _ in self._fields(connection, node.selection_set):
            key = selection.alias.value if selection.alias else selection.name.value
            if selection.name.value == "nodes":
                selections.append((key, selection.selection_set))
            elif selection.name.value == "edges" and selection.selection_set:
                for inner, _ in self._fields(edge_type, selection.selection_set):
                    if inner.name.value == "node":
                        inner_key = inner.alias.value if inner.alias else "node"
                        selections.append((f"{key}.{inner_key}", inner.selection_set))
        if not actual:
            size = args.get("first") or args.get("last") or 0
            per_node = 1 + sum(self.selection_set(node_type, s, None, path) for _, s in selections)
            return size * per_node
        if not isinstance(value, dict):
            return 0.0
        count = max((len(value.get(k.split(".")[0]) or []) for k, _ in selections), default=0)
        total = 0.0
        for index in range(count):
            total += 1
            for key, selection_set in selections:
                outer, _, inner = key.partition(".")
                items = value.get(outer) or []
                item = items[index] if index < len(items) else None
                if inner and isinstance(item, dict):
                    item = item.get(inner)
                if item is not None:
                    total += self.selection_set(node_type, selection_set, item, path)
        return total

    @staticmethod
    def _is_connection(named: GraphQLNamedType) -> bool:
        fields = getattr(named, "fields", None)
        return bool(fields) and named.name.endswith("Connection") and "pageInfo" in fields

    def _record(self, path: list[str], defined: int, total: float, children: float) -> float:
        if self.debug:
            self.report_fields.append(FieldCost(path, defined, total, children))
        return total


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    data: Any = None,
    debug: bool = False,
) -> CostReport:
    return CostCalculator(schema, fragments, variables, debug).operation(operation, data)
