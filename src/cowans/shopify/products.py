"""Typed reads of a store's catalog: every product with what the sync compares, products by
handle, variants by SKU, locations by name.

Shopify refuses, before running it, any request whose requested cost exceeds 1,000 points, and a
product page costs mostly what its nested lists may hold (variants x inventory levels). So the
page size is derived from the document's own cost estimate for the nested sizes asked, never
fixed. Nested lists come back at most as long as asked, and the page document selects no nested
`pageInfo`: a list that came back full may have been cut, so it is read again whole by a
follow-up query. Nothing is truncated silently; the price is one extra request for a product
whose list was exactly full.
"""

import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from cowans.shopify.client import ShopifyClient
from cowans.shopify.cost import estimate
from cowans.shopify.documents import Document, load
from cowans.shopify.errors import ShopifyError, ShopifyErrorCode

logger = logging.getLogger(__name__)

Node = dict[str, Any]

MAX_QUERY_COST = 1000
MAX_PAGE_SIZE = 250
# Shopify documents no length limit for search queries, but long ones get slow: stay modest.
MAX_SEARCH_QUERY_CHARS = 2000
SEARCH_OR = " OR "
# Values made only of these need no quotes in Shopify's search syntax; anything else (spaces,
# colons, parentheses, quotes, a leading dash, the `*` wildcard...) is quoted and escaped.
_BARE_SEARCH_VALUE = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.\-/]*")

PRODUCTS_PAGE = "products_page"
VARIANTS_PAGE = "product_variants_page"
METAFIELDS_PAGE = "product_metafields_page"
MEDIA_PAGE = "product_media_page"
LEVELS_PAGE = "inventory_levels_page"
COLLECTIONS_PAGE = "product_collections_page"


# What a read returns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Weight:
    value: Decimal
    unit: str


@dataclass(frozen=True)
class RemoteOption:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class RemoteMetafield:
    namespace: str
    key: str
    type: str
    value: str


@dataclass(frozen=True)
class RemoteImage:
    id: str
    url: str | None  # None while Shopify is still processing the file
    alt: str | None


@dataclass(frozen=True)
class RemoteVariant:
    id: str
    sku: str | None
    barcode: str | None
    price: Decimal
    compare_at_price: Decimal | None
    inventory_policy: str
    position: int
    option_values: tuple[tuple[str, str], ...]  # (option name, value), in option order
    inventory_item_id: str
    tracked: bool
    weight: Weight | None
    # Available quantity by location name. Left out of the hash (a dict cannot be hashed) but
    # compared, so two reads of the same variant are equal exactly when nothing changed.
    inventory: Mapping[str, int] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RemoteProduct:
    id: str
    handle: str
    title: str
    description_html: str
    vendor: str
    product_type: str
    tags: tuple[str, ...]
    status: str
    updated_at: datetime
    seo_title: str | None
    seo_description: str | None
    options: tuple[RemoteOption, ...]
    variants: tuple[RemoteVariant, ...]
    metafields: tuple[RemoteMetafield, ...]
    images: tuple[RemoteImage, ...]
    # Titles of the manual collections holding the product, sorted: membership is a set, and
    # smart collections are left out since their rules, not a sync, decide who is in them.
    collections: tuple[str, ...] = ()


@dataclass(frozen=True)
class VariantRef:
    """Enough to address a variant found by SKU: mutations need the product and item ids."""

    id: str
    sku: str
    inventory_item_id: str
    product_id: str
    product_handle: str


# Turning Shopify's JSON into those (bulk.py reads the same shapes) -----------------------------


def parse_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _decimal(value: Any) -> Decimal | None:
    """Money arrives as a string and weights as a float: go through str so 0.1 stays 0.1."""
    return None if value is None else Decimal(str(value))


def parse_levels(nodes: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Keyed by location name, not id: names are what people and supplier feeds use."""
    inventory: dict[str, int] = {}
    for node in nodes:
        quantities = {q["name"]: q["quantity"] for q in node.get("quantities") or ()}
        inventory[node["location"]["name"]] = quantities.get("available", 0)
    return inventory


def _parse_weight(measurement: Mapping[str, Any] | None) -> Weight | None:
    weight = (measurement or {}).get("weight")
    if not weight or weight.get("value") is None:
        return None
    value = _decimal(weight["value"])
    assert value is not None
    return Weight(value, weight["unit"])


def parse_variant(node: Mapping[str, Any], levels: Iterable[Mapping[str, Any]]) -> RemoteVariant:
    """A variant from its node and its complete list of inventory levels (fetched apart: where
    they sit differs between a page and a bulk export)."""
    item = node["inventoryItem"]
    price = _decimal(node["price"])
    assert price is not None
    return RemoteVariant(
        id=node["id"],
        sku=node.get("sku") or None,  # Shopify answers "" or null for a variant without one
        barcode=node.get("barcode") or None,
        price=price,
        compare_at_price=_decimal(node.get("compareAtPrice")),
        inventory_policy=node["inventoryPolicy"],
        position=node["position"],
        option_values=tuple((o["name"], o["value"]) for o in node.get("selectedOptions") or ()),
        inventory_item_id=item["id"],
        tracked=bool(item.get("tracked")),
        weight=_parse_weight(item.get("measurement")),
        inventory=parse_levels(levels),
    )


def parse_metafield(node: Mapping[str, Any]) -> RemoteMetafield:
    return RemoteMetafield(node["namespace"], node["key"], node["type"], node["value"])


def parse_image(node: Mapping[str, Any]) -> RemoteImage | None:
    """None for media that are not images (videos, 3D models): the fragment selects nothing."""
    if not node.get("id"):
        return None
    return RemoteImage(node["id"], (node.get("image") or {}).get("url"), node.get("alt"))


def parse_product(
    node: Mapping[str, Any],
    *,
    variants: Iterable[RemoteVariant],
    metafields: Iterable[RemoteMetafield],
    images: Iterable[RemoteImage],
    collections: Iterable[Mapping[str, Any]],
) -> RemoteProduct:
    """A product from its own fields and its already complete nested lists."""
    seo = node.get("seo") or {}
    return RemoteProduct(
        id=node["id"],
        handle=node["handle"],
        title=node["title"],
        description_html=node.get("descriptionHtml") or "",
        vendor=node.get("vendor") or "",
        product_type=node.get("productType") or "",
        tags=tuple(node.get("tags") or ()),
        status=node["status"],
        updated_at=parse_datetime(node["updatedAt"]),
        seo_title=seo.get("title"),
        seo_description=seo.get("description"),
        options=tuple(
            RemoteOption(o["name"], tuple(o["values"])) for o in node.get("options") or ()
        ),
        variants=tuple(sorted(variants, key=lambda variant: variant.position)),
        metafields=tuple(metafields),
        images=tuple(images),
        collections=tuple(sorted(collection["title"] for collection in collections)),
    )


def _parse_variant_ref(node: Mapping[str, Any]) -> VariantRef:
    return VariantRef(
        id=node["id"],
        sku=node["sku"],
        inventory_item_id=node["inventoryItem"]["id"],
        product_id=node["product"]["id"],
        product_handle=node["product"]["handle"],
    )


# Page sizes -----------------------------------------------------------------------------------


def largest_page(document: Document, variables: Mapping[str, Any], size: str = "first") -> int:
    """The most nodes one request of `document` may ask for and stay within Shopify's max cost.

    The estimate is linear in the page size (connection overhead + size x one node), so the
    sizes 1 and 2 give both terms; the final check guards against rounding."""
    one = estimate(document, {**variables, size: 1})
    per_node = max(1, estimate(document, {**variables, size: 2}) - one)
    overhead = one - per_node
    largest = min(MAX_PAGE_SIZE, (MAX_QUERY_COST - overhead) // per_node)
    while largest > 0 and estimate(document, {**variables, size: largest}) > MAX_QUERY_COST:
        largest -= 1
    if largest < 1:
        raise ValueError(
            f"{document.name}: one node costs {one} points with {dict(variables)}, more than "
            f"Shopify's {MAX_QUERY_COST}; ask for smaller nested lists"
        )
    return largest


@dataclass(frozen=True)
class PageShape:
    """How long each nested list of a product page is asked to be. Longer lists mean fewer
    follow-ups for big products but fewer products per page, since each page must stay under
    1,000 points; the defaults suit catalogs where most products have a few variants."""

    variants: int = 10
    metafields: int = 10
    media: int = 5
    # Each product asks for this many (2 + n points): enough for the one collection of its
    # product type and a couple a merchant added, without costing a smaller page.
    collections: int = 3
    max_levels: int = 10  # inventory levels per variant, whatever the number of locations


DEFAULT_SHAPE = PageShape()


@dataclass(frozen=True)
class ProductPagePlan:
    """The nested sizes and the page size one iteration uses for every page."""

    variants: int
    levels: int
    metafields: int
    media: int
    collections: int
    page_size: int

    def variables(self, *, query: str | None, after: str | None) -> dict[str, Any]:
        return {
            "first": self.page_size,
            "after": after,
            "query": query,
            "variants": self.variants,
            "levels": self.levels,
            "metafields": self.metafields,
            "media": self.media,
            "collections": self.collections,
        }


def plan_product_pages(shape: PageShape, location_count: int) -> ProductPagePlan:
    """Levels asked: one more than there are locations, so that even a variant stocked at every
    location comes back short of a full list, which proves nothing was cut (a full list could
    still happen, e.g. a level at a deactivated location, and is then followed up)."""
    sizes = {
        "variants": shape.variants,
        "levels": max(1, min(location_count + 1, shape.max_levels)),
        "metafields": shape.metafields,
        "media": shape.media,
        "collections": shape.collections,
    }
    page_size = largest_page(load(PRODUCTS_PAGE), sizes)
    return ProductPagePlan(page_size=page_size, **sizes)


# Paging ----------------------------------------------------------------------------------------


class _Vanished(Exception):
    """What a follow-up was completing was deleted since its page was read."""


def _dig(data: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            raise _Vanished("/".join(path))
    return value


async def _all_nodes(
    client: ShopifyClient, document: Document, variables: Mapping[str, Any], path: tuple[str, ...]
) -> list[Node]:
    """Every node of the connection at `path`. Each page is as large as the max cost allows,
    since the requests, not the nodes, are what a follow-up pays for in latency."""
    first = largest_page(document, variables)
    nodes: list[Node] = []
    after: str | None = None
    while True:
        result = await client.execute(document, {**variables, "first": first, "after": after})
        connection = _dig(result.data, path)
        nodes.extend(connection["nodes"])
        page_info = connection["pageInfo"]
        if not page_info["hasNextPage"]:
            return nodes
        after = page_info["endCursor"]


async def _whole_list(
    client: ShopifyClient,
    nodes: list[Node],
    asked: int,
    document_name: str,
    variables: Mapping[str, Any],
    path: tuple[str, ...],
) -> list[Node]:
    """`nodes` if they are fewer than asked, else the whole list read again from the start (no
    cursor came with them)."""
    if len(nodes) < asked:
        return nodes
    return await _all_nodes(client, load(document_name), variables, path)


async def _complete_variant(
    client: ShopifyClient, node: Node, plan: ProductPagePlan
) -> RemoteVariant:
    item = node["inventoryItem"]
    levels = await _whole_list(
        client,
        item["inventoryLevels"]["nodes"],
        plan.levels,
        LEVELS_PAGE,
        {"id": item["id"]},
        ("inventoryItem", "inventoryLevels"),
    )
    return parse_variant(node, levels)


async def _complete_product(
    client: ShopifyClient, node: Node, plan: ProductPagePlan
) -> RemoteProduct:
    """The product of a page node, with every nested list followed up that may have been cut."""
    owner = {"id": node["id"]}
    variant_nodes = await _whole_list(
        client,
        node["variants"]["nodes"],
        plan.variants,
        VARIANTS_PAGE,
        {**owner, "levels": plan.levels},
        ("product", "variants"),
    )
    metafield_nodes = await _whole_list(
        client,
        node["metafields"]["nodes"],
        plan.metafields,
        METAFIELDS_PAGE,
        owner,
        ("product", "metafields"),
    )
    media_nodes = await _whole_list(
        client, node["media"]["nodes"], plan.media, MEDIA_PAGE, owner, ("product", "media")
    )
    collection_nodes = await _whole_list(
        client,
        node["collections"]["nodes"],
        plan.collections,
        COLLECTIONS_PAGE,
        owner,
        ("product", "collections"),
    )
    variants = [await _complete_variant(client, variant, plan) for variant in variant_nodes]
    return parse_product(
        node,
        variants=variants,
        metafields=map(parse_metafield, metafield_nodes),
        images=(image for image in map(parse_image, media_nodes) if image is not None),
        collections=collection_nodes,
    )


async def _planned_products(
    client: ShopifyClient, plan: ProductPagePlan, query: str | None, *, reread: bool = True
) -> AsyncIterator[RemoteProduct]:
    document = load(PRODUCTS_PAGE)
    after: str | None = None
    while True:
        result = await client.execute(document, plan.variables(query=query, after=after))
        connection = result.data["products"]
        for node in connection["nodes"]:
            try:
                yield await _complete_product(client, node, plan)
            except _Vanished:
                if reread:
                    async for product in _reread(client, plan, node["id"]):
                        yield product
                else:
                    logger.warning("product %s keeps changing while read; skipped", node["id"])
        page_info = connection["pageInfo"]
        if not page_info["hasNextPage"]:
            return
        after = page_info["endCursor"]


def _reread(
    client: ShopifyClient, plan: ProductPagePlan, product_id: str
) -> AsyncIterator[RemoteProduct]:
    """A product changed under its follow-ups (it or one of its variants was deleted): its
    page node is stale, so read it afresh, once. A deleted product then yields nothing, rather
    than a half-read product that the sync would take for the truth."""
    number = product_id.rsplit("/", 1)[-1]
    return _planned_products(client, plan, f"id:{number}", reread=False)


async def _plan(
    client: ShopifyClient, shape: PageShape, location_count: int | None
) -> ProductPagePlan:
    if location_count is None:
        location_count = len(await list_locations(client))
    return plan_product_pages(shape, location_count)


# Public reads ----------------------------------------------------------------------------------


async def list_locations(client: ShopifyClient) -> dict[str, str]:
    """{name: id}. Active locations only, as Shopify lists them by default: stock cannot be
    set anywhere else."""
    nodes = await _all_nodes(client, load("locations"), {}, ("locations",))
    return {node["name"]: node["id"] for node in nodes}


async def iterate_products(
    client: ShopifyClient,
    *,
    query: str | None = None,
    shape: PageShape = DEFAULT_SHAPE,
    location_count: int | None = None,
) -> AsyncIterator[RemoteProduct]:
    """Every product matching `query` (Shopify's search syntax; all when None), complete, in id
    order. `location_count` saves a request when the caller knows it. A product that changes
    while it is read is read again, and left out if it was deleted."""
    plan = await _plan(client, shape, location_count)
    async for product in _planned_products(client, plan, query):
        yield product


# Lookups by handle and by SKU ------------------------------------------------------------------


@dataclass(frozen=True)
class SearchBatch:
    field: str
    values: tuple[str, ...]
    query: str


def search_term(field_name: str, value: str) -> str:
    """`field:value`, quoting and escaping the value when the search syntax would misread it."""
    if _BARE_SEARCH_VALUE.fullmatch(value):
        return f"{field_name}:{value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field_name}:"{escaped}"'


def search_batches(
    field_name: str,
    values: Iterable[str],
    *,
    max_terms: int,
    max_chars: int = MAX_SEARCH_QUERY_CHARS,
) -> Iterator[SearchBatch]:
    """`field:a OR field:b ...` queries, each with at most `max_terms` values and `max_chars`
    characters (a single value longer than that still gets a batch of its own)."""
    chosen: list[str] = []
    terms: list[str] = []
    length = 0
    for value in values:
        term = search_term(field_name, value)
        added = len(term) + (len(SEARCH_OR) if terms else 0)
        if terms and (len(terms) >= max_terms or length + added > max_chars):
            yield SearchBatch(field_name, tuple(chosen), SEARCH_OR.join(terms))
            chosen, terms, added = [], [], len(term)
            length = 0
        chosen.append(value)
        terms.append(term)
        length += added
    if terms:
        yield SearchBatch(field_name, tuple(chosen), SEARCH_OR.join(terms))


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


async def fetch_products_by_handles(
    client: ShopifyClient,
    handles: Iterable[str],
    *,
    shape: PageShape = DEFAULT_SHAPE,
    location_count: int | None = None,
) -> dict[str, RemoteProduct]:
    """{handle: product} for the handles that exist. A batch holds at most one page of
    products, so each batch usually costs one request plus follow-ups; matches are kept only
    when the handle is exactly one asked for (search may match loosely)."""
    wanted = _distinct(handles)
    if not wanted:
        return {}
    plan = await _plan(client, shape, location_count)
    found: dict[str, RemoteProduct] = {}
    for batch in search_batches("handle", wanted, max_terms=plan.page_size):
        asked = set(batch.values)
        async for product in _planned_products(client, plan, batch.query):
            if product.handle in asked:
                found[product.handle] = product
    return found


async def fetch_variants_by_skus(
    client: ShopifyClient, skus: Iterable[str]
) -> dict[str, tuple[VariantRef, ...]]:
    """{sku: variants} for the SKUs that exist. Shopify does not keep SKUs unique, so each maps
    to every variant carrying it, and the caller decides what a duplicate means. Matching is
    exact (Shopify's search ignores case)."""
    document = load("variants_by_sku")
    page_size = largest_page(document, {"query": ""})
    found: dict[str, list[VariantRef]] = {}
    for batch in search_batches("sku", _distinct(skus), max_terms=page_size):
        asked = set(batch.values)
        for ref in await _variants_matching(client, document, page_size, batch):
            if ref.sku in asked:
                found.setdefault(ref.sku, []).append(ref)
    return {sku: tuple(refs) for sku, refs in found.items()}


async def _variants_matching(
    client: ShopifyClient, document: Document, page_size: int, batch: SearchBatch
) -> list[VariantRef]:
    """The variants a batch's query finds. The document reads one page and no `pageInfo`, so a
    full page may hide more matches (duplicate SKUs): the batch is then split and asked again."""
    result = await client.execute(document, {"first": page_size, "query": batch.query})
    nodes = result.data["productVariants"]["nodes"]
    if len(nodes) < page_size:
        return [_parse_variant_ref(node) for node in nodes]
    if len(batch.values) == 1:
        raise ShopifyError(
            ShopifyErrorCode.GRAPHQL_ERROR,
            f"At least {page_size} variants carry SKU {batch.values[0]!r}: too many to list",
        )
    middle = len(batch.values) // 2
    refs: list[VariantRef] = []
    for half in (batch.values[:middle], batch.values[middle:]):
        for smaller in search_batches(batch.field, half, max_terms=len(half)):
            refs += await _variants_matching(client, document, page_size, smaller)
    return refs
