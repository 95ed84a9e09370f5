"""metafieldsSet and metafieldsDelete on products, variants and collections.

metafieldsSet is atomic (one bad entry and nothing is written) and takes at most 25 entries.
`compareDigest` is optimistic locking: a digest must match the stored metafield, and an explicit
null means "only if it does not exist yet". Without the key, no check is made.
"""

import json
import re
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator.catalog import METAFIELD_TYPES, metafield_value_valid, set_metafields
from shopify_emulator.lookup import find_node
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.state import Metafield, ShopData

MAX_METAFIELDS = 25
# Metafields without a namespace land here, as everywhere else in the emulator.
DEFAULT_NAMESPACE = "custom"
OWNER_TYPES = {"Product": "PRODUCT", "ProductVariant": "PRODUCTVARIANT", "Collection": "COLLECTION"}
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{2,64}")
NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9_-]{3,255}")
STALE_MESSAGE = (
    "The resource has been updated since it was loaded. Try again with an updated "
    "`compareDigest` value."
)
Error = dict[str, Any]


def metafields_error(
    field: list[Any] | None, message: str, code: str, element_index: int | None = None
) -> Error:
    """A MetafieldsSetUserError. elementIndex points into a list value, not into `metafields`:
    the entry's position is already in the path."""
    return {
        "field": [str(part) for part in field] if field else None,
        "message": message,
        "code": code,
        "elementIndex": element_index,
    }


def _owner(data: ShopData, owner_id: str) -> Any:
    found = find_node(data, owner_id)
    return found if getattr(found, "kind", None) in OWNER_TYPES else None


def _key_of(entry: dict[str, Any]) -> tuple[str, str]:
    return (entry.get("namespace") or DEFAULT_NAMESPACE, entry["key"])


# metafieldsSet ---------------------------------------------------------------------------------


@resolver("Mutation", "metafieldsSet")
def resolve_metafields_set(
    _root: Any, info: GraphQLResolveInfo, metafields: list[dict[str, Any]]
) -> dict[str, Any]:
    data = shop_of(info).data
    if len(metafields) > MAX_METAFIELDS:
        error = metafields_error(
            ["metafields"],
            f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS}.",
            "LESS_THAN_OR_EQUAL_TO",
        )
        return {"metafields": None, "userErrors": [error]}
    errors = [
        error
        for index, entry in enumerate(metafields)
        for error in _entry_errors(data, index, entry)
    ]
    if errors:
        return {"metafields": [], "userErrors": errors}
    return {"metafields": [_write(data, entry) for entry in metafields], "userErrors": []}


def _entry_errors(data: ShopData, index: int, entry: dict[str, Any]) -> list[Error]:
    """The first problem of an entry, in Shopify's order: shape, owner, type, value, digest."""
    where = ["metafields", index]
    owner = _owner(data, entry["ownerId"])
    existing = owner.metafields.get(_key_of(entry)) if owner is not None else None
    kind = entry.get("type") or (existing.type if existing else "")
    for check in (
        lambda: _shape_errors(where, entry),
        lambda: _owner_errors(where, owner),
        lambda: _type_errors(where, entry, existing),
        lambda: _value_errors(where, kind, entry["value"]),
        lambda: _digest_errors(where, entry, existing),
    ):
        errors = check()
        if errors:
            return errors
    return []


def _shape_errors(where: list[Any], entry: dict[str, Any]) -> list[Error]:
    namespace = entry.get("namespace")
    if namespace is not None and not NAMESPACE_PATTERN.fullmatch(namespace):
        message = "Namespace must be 3-255 characters: letters, digits, hyphens and underscores."
        code = "TOO_SHORT" if len(namespace) < 3 else "INVALID"
        return [metafields_error([*where, "namespace"], message, code)]
    if not KEY_PATTERN.fullmatch(entry["key"]):
        message = "Key must be 2-64 characters: letters, digits, hyphens and underscores."
        code = "TOO_SHORT" if len(entry["key"]) < 2 else "INVALID"
        return [metafields_error([*where, "key"], message, code)]
    return []


def _owner_errors(where: list[Any], owner: Any) -> list[Error]:
    if owner is not None:
        return []
    return [metafields_error([*where, "ownerId"], "Owner does not exist.", "INVALID")]


def _type_errors(
    where: list[Any], entry: dict[str, Any], existing: Metafield | None
) -> list[Error]:
    """With no metafield definitions in the emulator, a new metafield must name its type."""
    kind = entry.get("type")
    if kind is None and existing is None:
        return [metafields_error([*where, "type"], "Type can't be blank", "BLANK")]
    if kind is not None and kind not in METAFIELD_TYPES:
        return [
            metafields_error(
                [*where, "type"], f"Type '{kind}' is not a valid type.", "INVALID_TYPE"
            )
        ]
    return []


def _value_errors(where: list[Any], kind: str, value: str) -> list[Error]:
    if not value.strip():
        return [metafields_error([*where, "value"], "Value can't be blank.", "BLANK")]
    if kind.startswith("list.") and _is_json_list(value):
        return _list_item_errors(where, kind.removeprefix("list."), json.loads(value))
    if not metafield_value_valid(kind, value):
        return [metafields_error([*where, "value"], _invalid_message(kind), "INVALID_VALUE")]
    return []


def _is_json_list(value: str) -> bool:
    try:
        return isinstance(json.loads(value), list)
    except ValueError:
        return False


def _list_item_errors(where: list[Any], item_kind: str, items: list[Any]) -> list[Error]:
    """For list types Shopify points at the offending element with elementIndex."""
    return [
        metafields_error([*where, "value"], _invalid_message(item_kind), "INVALID_VALUE", index)
        for index, item in enumerate(items)
        if not metafield_value_valid(item_kind, item if isinstance(item, str) else json.dumps(item))
    ]


def _invalid_message(kind: str) -> str:
    return {
        "number_integer": "Value must be an integer.",
        "number_decimal": "Value must be a decimal.",
        "boolean": "Value must be true or false.",
        "json": "Value is invalid JSON.",
    }.get(kind, "Value must be a JSON array." if kind.startswith("list.") else "Value is invalid.")


def _digest_errors(
    where: list[Any], entry: dict[str, Any], existing: Metafield | None
) -> list[Error]:
    if "compareDigest" not in entry:
        return []
    digest = entry["compareDigest"]
    if digest is None:
        return [] if existing is None else [metafields_error(where, STALE_MESSAGE, "STALE_OBJECT")]
    if existing is None:
        return [
            metafields_error(
                [*where, "compareDigest"],
                "Invalid `compareDigest` value.",
                "INVALID_COMPARE_DIGEST",
            )
        ]
    if digest != existing.compare_digest:
        return [metafields_error(where, STALE_MESSAGE, "STALE_OBJECT")]
    return []


def _write(data: ShopData, entry: dict[str, Any]) -> Metafield:
    owner = _owner(data, entry["ownerId"])
    namespace, key = _key_of(entry)
    existing = owner.metafields.get((namespace, key))
    spec = {
        "namespace": namespace,
        "key": key,
        "type": entry.get("type") or (existing.type if existing else None),
        "value": entry["value"],
    }
    (written,) = set_metafields(data, owner, OWNER_TYPES[owner.kind], [spec], replace=False)
    return written


# metafieldsDelete ------------------------------------------------------------------------------


@resolver("Mutation", "metafieldsDelete")
def resolve_metafields_delete(
    _root: Any, info: GraphQLResolveInfo, metafields: list[dict[str, Any]]
) -> dict[str, Any]:
    """A metafield that is not there is no error: its slot in the answer is null."""
    data = shop_of(info).data
    return {
        "deletedMetafields": [_delete(data, identifier) for identifier in metafields],
        "userErrors": [],
    }


def _delete(data: ShopData, identifier: dict[str, Any]) -> dict[str, Any] | None:
    owner = _owner(data, identifier["ownerId"])
    key = (identifier["namespace"], identifier["key"])
    if owner is None or owner.metafields.pop(key, None) is None:
        return None
    return {"ownerId": owner.id, "namespace": key[0], "key": key[1]}
