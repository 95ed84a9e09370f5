"""The executable schema: the SDL plus resolvers registered by the modules in `resolvers/`.

A field without a registered resolver reads the snake_case attribute of its source object (or the
key of a dict), so most fields of the data model need no code at all. Datetimes are rendered as
Shopify does (ISO 8601, UTC, `Z`).
"""

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    FloatValueNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLResolveInfo,
    GraphQLSchema,
    IntValueNode,
    StringValueNode,
    ValueNode,
    build_schema,
)

from shopify_emulator.shops import Shop
from shopify_emulator.state import iso

SDL_PATH = Path(__file__).with_name("schema.graphql")
RESOLVER_MODULES = (
    "shopify_emulator.resolvers.shop",
    "shopify_emulator.resolvers.products",
    "shopify_emulator.resolvers.product_set",
    "shopify_emulator.resolvers.product_mutations",
    "shopify_emulator.resolvers.inventory",
    "shopify_emulator.resolvers.metafields",
    "shopify_emulator.resolvers.collections",
    "shopify_emulator.resolvers.bulk",
    "shopify_emulator.resolvers.webhooks",
)

Resolver = Callable[..., Any]
_RESOLVERS: dict[tuple[str, str], Resolver] = {}


def resolver(type_name: str, field_name: str) -> Callable[[Resolver], Resolver]:
    """Register the resolver of `type_name.field_name` (signature: source, info, **arguments)."""

    def register(function: Resolver) -> Resolver:
        _RESOLVERS[(type_name, field_name)] = function
        return function

    return register


@dataclass
class Context:
    """What every resolver may need: the shop, and the URL the emulator is reached at."""

    shop: Shop
    base_url: str
    options: Any = None  # app.EmulatorOptions (bulk speed, webhook retries)
    notes: dict[str, Any] = field(default_factory=dict)


def context_of(info: GraphQLResolveInfo) -> Context:
    return info.context


def shop_of(info: GraphQLResolveInfo) -> Shop:
    return info.context.shop


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@cache
def snake_case(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def default_field_resolver(source: Any, info: GraphQLResolveInfo, **_arguments: Any) -> Any:
    name = info.field_name
    value = (
        source.get(name) if isinstance(source, dict) else getattr(source, snake_case(name), None)
    )
    if isinstance(value, datetime):
        return iso(value)
    return value


def _resolve_abstract_type(value: Any, _info: GraphQLResolveInfo, _type: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("__typename")
    return getattr(value, "kind", None)


@cache
def executable_schema() -> GraphQLSchema:
    schema = build_schema(SDL_PATH.read_text())
    for module in RESOLVER_MODULES:
        importlib.import_module(module)
    for (type_name, field_name), function in _RESOLVERS.items():
        graphql_type = schema.get_type(type_name)
        if graphql_type is None or field_name not in graphql_type.fields:  # type: ignore[attr-defined]
            raise RuntimeError(f"resolver for unknown field {type_name}.{field_name}")
        graphql_type.fields[field_name].resolve = function  # type: ignore[attr-defined]
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLInterfaceType):
            graphql_type.resolve_type = _resolve_abstract_type
    unsigned = schema.get_type("UnsignedInt64")
    unsigned.coerce_output_value = str  # type: ignore[union-attr]  # Shopify sends a string
    money = schema.get_type("Money")
    money.coerce_input_value = coerce_money  # type: ignore[union-attr]
    money.coerce_input_literal = coerce_money_literal  # type: ignore[union-attr]
    return schema


def coerce_money(value: Any) -> str:
    """Money input is a decimal, as a string or a number; anything else is a GraphQL error (a
    negative amount is valid here and refused later, as a user error, as Shopify does)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise GraphQLError(f"Money must be a decimal amount, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise GraphQLError(f"Money must be a decimal amount, got {value!r}") from exc
    if not amount.is_finite():
        raise GraphQLError(f"Money must be a decimal amount, got {value!r}")
    return str(value).strip()


def coerce_money_literal(node: ValueNode, _variables: Any = None) -> str:
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return coerce_money(node.value)
    raise GraphQLError("Money must be a decimal amount")
