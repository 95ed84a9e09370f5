"""`productSet`: the idempotent create-or-replace of a whole product, sync or async."""

import asyncio
from typing import Any

from graphql import GraphQLResolveInfo

from shopify_emulator.catalog import UserErrors, product_set
from shopify_emulator.schema import resolver, shop_of
from shopify_emulator.shops import Shop
from shopify_emulator.state import ProductOperation

# How long an asynchronous productSet stays CREATED before it runs: long enough for a client to
# see the operation pending, short enough for tests.
ASYNC_DELAY_SECONDS = 0.05


@resolver("Mutation", "productSet")
def resolve_product_set(
    _root: Any,
    info: GraphQLResolveInfo,
    input: dict[str, Any],
    identifier: dict[str, Any] | None = None,
    synchronous: bool = True,
) -> dict[str, Any]:
    shop = shop_of(info)
    if not synchronous:
        operation = ProductOperation(shop.data.next_number(), "ProductSetOperation")
        shop.data.product_operations[operation.number] = operation
        asyncio.get_running_loop().call_later(
            ASYNC_DELAY_SECONDS, _run_operation, shop, operation, input, identifier
        )
        return {"product": None, "productSetOperation": operation, "userErrors": []}
    try:
        product = product_set(shop, input, identifier)
    except UserErrors as exc:
        return {"product": None, "productSetOperation": None, "userErrors": exc.errors}
    return {"product": product, "productSetOperation": None, "userErrors": []}


def _run_operation(
    shop: Shop,
    operation: ProductOperation,
    values: dict[str, Any],
    identifier: dict[str, Any] | None,
) -> None:
    operation.status = "ACTIVE"
    try:
        operation.product_number = product_set(shop, values, identifier).number
    except UserErrors as exc:
        operation.user_errors = exc.errors
    operation.status = "COMPLETE"


@resolver("ProductSetOperation", "product")
@resolver("ProductDeleteOperation", "product")
def resolve_operation_product(operation: ProductOperation, info: GraphQLResolveInfo) -> Any:
    if operation.product_number is None:
        return None
    return shop_of(info).data.products.get(operation.product_number)
