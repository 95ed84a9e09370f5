"""Manual collections by title: found, or created once.

DATA.md puts each product in one manual collection per product type, named after the type, and
Shopify knows collections only by id: before a push, `ensure_collections` turns titles into ids,
creating what is missing. Calling it again must never make a second collection of a title:
- Shopify's search is loose (`title:Pens` also finds "Gel Pens") and may lag behind a collection
  created a moment ago. Found collections count only on an exactly equal title, and a title not
  found is looked up once more, directly by handle, right before it is created.
- A create names its handle, derived from the title alone. Handles are unique per shop, so a
  create replayed after its answer was lost (by the client's retries, or by a whole push run
  again) is refused instead of making a twin, and the lookup by handle finds the first one.
Smart collections are never used: their rules, not a person or a sync, decide who is in them.
"""

import asyncio
import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from cowans.shopify.client import ShopifyClient
from cowans.shopify.documents import load
from cowans.shopify.products import MAX_PAGE_SIZE, MAX_SEARCH_QUERY_CHARS, Node, search_batches

logger = logging.getLogger(__name__)

SEARCH_DOCUMENT = "collections_by_title"
BY_HANDLE_DOCUMENT = "collection_by_handle"
CREATE_DOCUMENT = "collection_create"
MANUAL_ONLY = "collection_type:custom"
# A search asks for twice as many collections as titles (loose matches come along) and pages
# on when there are more: 100 nodes cost 102 points, well under a request's 1,000.
TITLES_PER_SEARCH = 50
NODES_PER_TITLE = 2
# New product types are rare, but a first push may bring hundreds: create a few at a time.
CREATE_CONCURRENCY = 4
MAX_HANDLE_CHARS = 200  # Shopify allows 255; room for the suffix of the second candidate


def _distinct_titles(titles: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(title for title in titles if title and title.strip()))


# Handles ----------------------------------------------------------------------------------------


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:MAX_HANDLE_CHARS].strip("-")


def candidate_handles(title: str) -> tuple[str, ...]:
    """The handles a collection of `title` is created with, in order: the slug Shopify itself
    would choose, then one made unique by a digest of the exact title, for when the slug is held
    by another collection ("PENS" next to "Pens", a smart collection, a renamed one). Both
    depend on the title only, so every attempt, in any process, asks for the same ones."""
    digest = hashlib.sha256(title.encode()).hexdigest()[:8]
    slug = _slug(title)
    if not slug:  # nothing Latin in the title
        return (f"collection-{digest}",)
    return (slug, f"{slug}-{digest}")


# Finding ----------------------------------------------------------------------------------------


async def _search(client: ShopifyClient, query: str, first: int) -> list[Node]:
    document = load(SEARCH_DOCUMENT)
    nodes: list[Node] = []
    after: str | None = None
    while True:
        variables = {"first": first, "after": after, "query": query}
        connection = (await client.execute(document, variables)).data["collections"]
        nodes += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


async def find_collections(client: ShopifyClient, titles: Iterable[str]) -> dict[str, str]:
    """{title: collection id} of the manual collections titled exactly as asked (case and all);
    where several share a title, the oldest. Titles without one are left out. Creates nothing:
    for collections a product is to leave, which must not be brought back to life."""
    prefix = f"{MANUAL_ONLY} AND ("
    found: dict[str, str] = {}
    batches = search_batches(
        "title",
        _distinct_titles(titles),
        max_terms=TITLES_PER_SEARCH,
        max_chars=MAX_SEARCH_QUERY_CHARS - len(prefix) - 1,
    )
    for batch in batches:
        first = min(MAX_PAGE_SIZE, NODES_PER_TITLE * len(batch.values))
        asked = set(batch.values)
        for node in await _search(client, f"{prefix}{batch.query})", first):
            if node["title"] in asked:
                found.setdefault(node["title"], node["id"])  # sorted by id: oldest first
    return found


async def _by_handle(client: ShopifyClient, handle: str) -> Node | None:
    result = await client.execute(load(BY_HANDLE_DOCUMENT), {"handle": handle})
    return result.data.get("collectionByIdentifier")


def _is_manual_titled(node: Node | None, title: str) -> bool:
    return node is not None and node["title"] == title and node.get("ruleSet") is None


# Creating ---------------------------------------------------------------------------------------


async def _create(client: ShopifyClient, title: str, handle: str) -> str | None:
    """The new collection's id, or None when Shopify refused it (a taken handle, most likely)."""
    values: dict[str, Any] = {"title": title, "handle": handle}
    result = await client.execute(load(CREATE_DOCUMENT), {"collection": values})
    payload = result.data.get("collectionCreate") or {}
    errors = payload.get("userErrors") or []
    created = payload.get("collection")
    if errors or created is None:
        logger.info("collection %r with handle %r not created: %s", title, handle, errors)
        return None
    return created["id"]


async def _find_or_create(client: ShopifyClient, title: str) -> str | None:
    """A manual collection of `title` under one of its candidate handles: the one already there,
    or a new one. None (logged) when every candidate handle is held by something else."""
    for handle in candidate_handles(title):
        holder = await _by_handle(client, handle)
        if holder is None:
            created = await _create(client, title, handle)
            if created is not None:
                return created
            holder = await _by_handle(client, handle)  # refused: taken meanwhile, maybe by us
        if _is_manual_titled(holder, title):
            assert holder is not None
            return holder["id"]
    logger.warning("no manual collection %r could be found or created", title)
    return None


async def ensure_collections(client: ShopifyClient, titles: Iterable[str]) -> dict[str, str]:
    """{title: collection id} for every title (blank ones ignored), creating the manual
    collections that are missing. Safe to call again and again: see the module's docstring. A
    title Shopify would not create is left out (and logged); the planner reports the changes
    that needed it. Errors of the link itself (ShopifyUnavailable...) are raised."""
    wanted = _distinct_titles(titles)
    found = await find_collections(client, wanted)
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def settle(title: str) -> None:
        async with gate:
            collection_id = await _find_or_create(client, title)
        if collection_id is not None:
            found[title] = collection_id

    try:
        async with asyncio.TaskGroup() as group:  # the first failure cancels the others
            for title in wanted:
                if title not in found:
                    group.create_task(settle(title))
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None  # as ShopifyError & co., which callers catch
    return {title: found[title] for title in wanted if title in found}
