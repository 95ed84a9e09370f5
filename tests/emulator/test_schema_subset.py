"""The emulator's schema is a strict subset of Shopify's 2026-10 schema, field by field."""

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    get_introspection_query,
    is_non_null_type,
)
from graphql.pyutils import Undefined

from shopify_emulator.schema import SDL_PATH, executable_schema
from tests.emulator.conftest import RunningEmulator
from tests.shopify_reference import REFERENCE_PATH, reference_schema

ROOT = Path(__file__).resolve().parents[2]


def _own_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [t for name, t in schema.type_map.items() if not name.startswith("__")]


def _required(argument_or_field: object) -> bool:
    return is_non_null_type(argument_or_field.type) and argument_or_field.default_value is Undefined  # type: ignore[attr-defined]


def _problems(ours: GraphQLSchema, theirs: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    for mine in _own_types(ours):
        real = theirs.get_type(mine.name)
        if real is None:
            problems.append(f"type {mine.name} does not exist in Shopify's schema")
            continue
        if type(real) is not type(mine):
            problems.append(
                f"{mine.name} is a {type(mine).__name__}, Shopify's a {type(real).__name__}"
            )
            continue
        if isinstance(mine, GraphQLObjectType | GraphQLInterfaceType):
            problems += _compare_fields(mine, real)  # type: ignore[arg-type]
            real_interfaces = {i.name for i in real.interfaces}  # type: ignore[union-attr]
            problems += [
                f"{mine.name} implements {i.name}, Shopify's does not"
                for i in mine.interfaces
                if i.name not in real_interfaces
            ]
        elif isinstance(mine, GraphQLInputObjectType):
            problems += _compare_input_fields(mine, real)  # type: ignore[arg-type]
        elif isinstance(mine, GraphQLEnumType):
            problems += [
                f"enum {mine.name} has no value {v} in Shopify's schema"
                for v in mine.values
                if v not in real.values
            ]  # type: ignore[union-attr]
        elif isinstance(mine, GraphQLUnionType):
            members = {t.name for t in real.types}  # type: ignore[union-attr]
            problems += [
                f"union {mine.name} member {t.name} unknown"
                for t in mine.types
                if t.name not in members
            ]
        else:
            assert isinstance(mine, GraphQLScalarType)
    return problems


def _compare_fields(mine: GraphQLObjectType, real: GraphQLObjectType) -> list[str]:
    problems = []
    for name, field in mine.fields.items():
        real_field = real.fields.get(name)
        where = f"{mine.name}.{name}"
        if real_field is None:
            problems.append(f"{where} does not exist in Shopify's schema")
            continue
        if str(field.type) != str(real_field.type):
            problems.append(f"{where} is {field.type}, Shopify's is {real_field.type}")
        for arg_name, arg in field.args.items():
            real_arg = real_field.args.get(arg_name)
            if real_arg is None:
                problems.append(f"{where}({arg_name}) does not exist in Shopify's schema")
            elif str(arg.type) != str(real_arg.type):
                problems.append(f"{where}({arg_name}) is {arg.type}, Shopify's is {real_arg.type}")
        problems += [
            f"{where} lacks Shopify's required argument {arg_name}"
            for arg_name, arg in real_field.args.items()
            if _required(arg) and arg_name not in field.args
        ]
    return problems


def _compare_input_fields(mine: GraphQLInputObjectType, real: GraphQLInputObjectType) -> list[str]:
    problems = []
    for name, field in mine.fields.items():
        real_field = real.fields.get(name)
        if real_field is None:
            problems.append(f"{mine.name}.{name} does not exist in Shopify's schema")
        elif str(field.type) != str(real_field.type):
            problems.append(f"{mine.name}.{name} is {field.type}, Shopify's is {real_field.type}")
    problems += [
        f"{mine.name} lacks Shopify's required field {name}"
        for name, field in real.fields.items()
        if _required(field) and name not in mine.fields
    ]
    return problems


def test_every_type_field_argument_and_value_exists_in_shopify() -> None:
    assert _problems(executable_schema(), reference_schema()) == []


def test_the_check_catches_a_divergence() -> None:
    """The comparison itself must be able to fail."""
    from graphql import build_schema

    altered = SDL_PATH.read_text().replace("  handle: String!\n", "  handle: String\n", 1)
    altered += "\nenum ProductStatus2 { ACTIVE }\n"
    problems = _problems(build_schema(altered), reference_schema())
    assert any("handle is String" in p for p in problems)
    assert any("ProductStatus2" in p for p in problems)


def test_idempotent_directive_matches() -> None:
    ours = executable_schema().get_directive("idempotent")
    theirs = reference_schema().get_directive("idempotent")
    assert ours is not None
    assert theirs is not None
    assert {n: str(a.type) for n, a in ours.args.items()} == {
        n: str(a.type) for n, a in theirs.args.items()
    }
    assert ours.locations == theirs.locations


def test_committed_sdl_is_what_the_generator_writes() -> None:
    """schema.graphql is generated: a hand edit (or a stale file) fails here."""
    generated = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "shopify_schema_subset.py"), str(REFERENCE_PATH)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert generated == SDL_PATH.read_text()


@pytest.mark.parametrize("shop_in_path", [True, False])
def test_introspection_works_over_http(emulator: RunningEmulator, shop_in_path: bool) -> None:
    if shop_in_path:
        body = emulator.gql(get_introspection_query())
    else:
        response = emulator.http.post(
            f"{emulator.base_url}/admin/api/2026-10/graphql.json",
            json={"query": get_introspection_query()},
            headers={
                "X-Shopify-Access-Token": emulator.shop().access_token,
                "Host": "demo.myshopify.com",
            },
        )
        body = response.json()
    schema = build_client_schema(body["data"])
    assert schema.get_type("Product") is not None
    assert "productSet" in schema.mutation_type.fields  # type: ignore[union-attr]
