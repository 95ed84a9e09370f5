"""Predicting what Shopify will charge for a document, before sending it.

The rules are Shopify's documented ones (scalars 0, objects 1, connections 2 plus their page size
times one node, mutations 10 plus the dynamic per-item costs of productSet, productCreate/Update,
productVariantsBulk* and metafieldsSet). The estimate needs no schema: a field with `first` or
`last` is a connection, a field with a selection set an object. The client refines it with the
requested cost Shopify reports for the same document and sizes (see `CostModel`).
"""

import json
import math
from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    ValueNode,
    value_from_ast_untyped,
)

from cowans.shopify.documents import Document

MUTATION_BASE_COST = 10
METAFIELD_OWNER_WEIGHTS = {"Order": 10, "Product": 4, "ProductVariant": 2, "Collection": 1,
                           "Customer": 1, "Shop": 1}  # fmt: skip


def _round(points: float) -> int:
    return math.floor(points + 0.5)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _owner_kind(owner_id: str) -> str:
    return owner_id.removeprefix("gid://shopify/").split("/", 1)[0]


def mutation_cost(name: str, args: Mapping[str, Any]) -> int:
    """A mutation field's own cost; what its payload selects comes on top."""
    extra = 0.0
    if name == "productSet":
        product = args.get("input") or {}
        variants = product.get("variants") or []
        extra = (
            0.2 * len(variants)
            + 0.6 * sum(1 for v in variants if v.get("file"))
            + 0.4 * sum(_count(v.get("metafields")) for v in variants)
            + 0.4 * _count(product.get("metafields"))
            + 1.9 * _count(product.get("files"))
        )
    elif name in ("productCreate", "productUpdate"):
        extra = 0.4 * _count((args.get("product") or {}).get("metafields"))
        extra += 1.9 * _count(args.get("media"))
    elif name in ("productVariantsBulkCreate", "productVariantsBulkUpdate"):
        variants = args.get("variants") or []
        extra = (
            0.2 * len(variants)
            + 0.6 * sum(_count(v.get("mediaSrc")) for v in variants)
            + 0.4 * sum(_count(v.get("metafields")) for v in variants)
            + 1.9 * _count(args.get("media"))
        )
    elif name == "metafieldsSet":
        owners = {m.get("ownerId") or "" for m in args.get("metafields") or []}
        extra = sum(METAFIELD_OWNER_WEIGHTS.get(_owner_kind(owner), 0) for owner in owners)
    return _round(MUTATION_BASE_COST + extra)


class _Estimator:
    def __init__(self, document: Document, variables: Mapping[str, Any]) -> None:
        self.variables = dict(variables)
        self.fragments = {
            d.name.value: d
            for d in document.ast.definitions
            if isinstance(d, FragmentDefinitionNode)
        }

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self.value(argument.value)
        return None

    def value(self, node: ValueNode) -> Any:
        return value_from_ast_untyped(node, self.variables)

    def selection_set(self, selection_set: SelectionSetNode | None) -> float:
        if selection_set is None:
            return 0.0
        common = 0.0
        conditional: list[float] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                common += self.field(selection)
            elif isinstance(selection, InlineFragmentNode):
                conditional.append(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                conditional.append(self.selection_set(fragment.selection_set))
        # An interface costs its most expensive possible selection.
        return common + (max(conditional) if conditional else 0.0)

    def field(self, node: FieldNode) -> float:
        if node.name.value.startswith("__") or node.selection_set is None:
            return 0.0
        size = self.page_size(node)
        if size is not None and self.is_connection(node.selection_set):
            return 2 + size * (1 + self.node_cost(node.selection_set))
        if size is not None:  # a plain list with a size, like Product.options(first:)
            return size * (1 + self.selection_set(node.selection_set))
        if node.name.value == "nodes" and self.argument(node, "ids") is not None:
            return _count(self.argument(node, "ids")) * (1 + self.selection_set(node.selection_set))
        return 1 + self.selection_set(node.selection_set)

    def page_size(self, node: FieldNode) -> int | None:
        """`first` or `last`; a value that is not a number is Shopify's to refuse, not ours."""
        size = self.argument(node, "first")
        if size is None:
            size = self.argument(node, "last")
        return size if isinstance(size, int) and not isinstance(size, bool) else None

    @staticmethod
    def is_connection(selection_set: SelectionSetNode) -> bool:
        names = {s.name.value for s in selection_set.selections if isinstance(s, FieldNode)}
        return bool(names & {"nodes", "edges", "pageInfo"})

    def node_cost(self, connection: SelectionSetNode) -> float:
        """One node of a connection: what `nodes` and `edges { node }` select of it."""
        cost = 0.0
        for selection in connection.selections:
            if not isinstance(selection, FieldNode) or selection.selection_set is None:
                continue
            if selection.name.value == "nodes":
                cost += self.selection_set(selection.selection_set)
            elif selection.name.value == "edges":
                for inner in selection.selection_set.selections:
                    if isinstance(inner, FieldNode) and inner.name.value == "node":
                        cost += self.selection_set(inner.selection_set)
        return cost

    def mutation(self, root: SelectionSetNode) -> float:
        total = 0.0
        for selection in root.selections:
            if not isinstance(selection, FieldNode):
                continue
            args = {a.name.value: self.value(a.value) for a in selection.arguments or ()}
            total += mutation_cost(selection.name.value, args)
            total += self.selection_set(selection.selection_set)
        return total


def estimate(document: Document, variables: Mapping[str, Any]) -> int:
    """The requested cost Shopify will charge, from the document alone."""
    estimator = _Estimator(document, variables)
    root = document.operation.selection_set
    total = estimator.mutation(root) if document.is_mutation else estimator.selection_set(root)
    return _round(total)


def sizes_signature(variables: Mapping[str, Any]) -> str:
    """What decides a document's cost besides its text: numbers and the lengths of lists."""

    def shape(value: Any) -> Any:
        if isinstance(value, list):
            return [len(value), shape(value[0]) if value else None]
        if isinstance(value, dict):
            return {
                k: shape(v) for k, v in sorted(value.items()) if isinstance(v, list | dict | int)
            }
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return json.dumps(shape(dict(variables)), sort_keys=True)


class CostModel:
    """Static estimates, corrected by what Shopify reported for the same document and sizes."""

    def __init__(self) -> None:
        self._reported: dict[tuple[str, str], int] = {}

    def predict(self, document: Document, variables: Mapping[str, Any]) -> int:
        reported = self._reported.get((document.name, sizes_signature(variables)))
        return reported if reported is not None else estimate(document, variables)

    def learn(self, document: Document, variables: Mapping[str, Any], requested: int) -> None:
        self._reported[(document.name, sizes_signature(variables))] = requested
