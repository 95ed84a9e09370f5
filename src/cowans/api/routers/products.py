"""The master catalog: list, read, edit (which locks), release locks, history."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cowans.api.deps import Editor, SessionDep, Viewer, audit
from cowans.catalog import editing
from cowans.catalog.queries import MAX_PAGE_SIZE, ProductFilter, search_products
from cowans.db.models import Product

router = APIRouter(prefix="/api/products", tags=["products"])


class VariantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    barcode: str
    price: Decimal | None
    compare_at_price: Decimal | None
    inventory_policy: str
    inventory: dict[str, int]
    weight_grams: Decimal | None
    option1_name: str
    option1_value: str


class ProductSummary(BaseModel):
    id: int
    handle: str
    title: str
    vendor: str
    product_type: str
    status: str
    published: bool
    tags: list[str]
    sku: str | None
    price: Decimal | None
    inventory_total: int
    version: int
    locked_fields: list[str]
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> "ProductSummary":
        variant = product.variants[0] if product.variants else None
        return cls(
            id=product.id,
            handle=product.handle,
            title=product.title,
            vendor=product.vendor,
            product_type=product.product_type,
            status=product.status,
            published=product.published,
            tags=list(product.tags or []),
            sku=variant.sku if variant else None,
            price=variant.price if variant else None,
            inventory_total=sum(sum((v.inventory or {}).values()) for v in product.variants),
            version=product.version,
            locked_fields=sorted(product.locks or {}),
            updated_at=product.updated_at,
        )


class ImageOut(BaseModel):
    src: str
    position: int
    alt: str


class SpecificationOut(BaseModel):
    namespace: str
    key: str
    type: str
    value: Any


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    created_at: datetime
    source: str
    import_id: int | None
    user_id: int | None
    changes: dict[str, Any]


class ProductDetail(ProductSummary):
    body_html: str
    seo_title: str
    seo_description: str
    etilize_sku: str
    match_method: str
    matched_field: str
    variants: list[VariantOut]
    images: list[ImageOut]
    metafields: list[SpecificationOut]
    provenance: dict[str, Any]
    locks: dict[str, Any]
    versions: list[VersionOut]


class ProductPage(BaseModel):
    items: list[ProductSummary]
    total: int
    page: int
    page_size: int


class ProductEdit(BaseModel):
    """Any of these; each field sent is locked against the feeds until released."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str | None, Field(max_length=255)] = None
    body_html: Annotated[str | None, Field(max_length=200_000)] = None
    vendor: Annotated[str | None, Field(max_length=255)] = None
    product_type: Annotated[str | None, Field(max_length=255)] = None
    tags: Annotated[list[Annotated[str, Field(max_length=255)]] | None, Field(max_length=250)] = (
        None
    )
    status: str | None = None
    published: bool | None = None
    seo_title: Annotated[str | None, Field(max_length=255)] = None
    seo_description: Annotated[str | None, Field(max_length=5000)] = None
    barcode: Annotated[str | None, Field(max_length=255)] = None
    price: Decimal | None = None
    inventory_policy: str | None = None


def _detail(product: Product, versions: list[Any]) -> ProductDetail:
    summary = ProductSummary.of(product)
    return ProductDetail(
        **summary.model_dump(),
        body_html=product.body_html,
        seo_title=product.seo_title,
        seo_description=product.seo_description,
        etilize_sku=product.etilize_sku,
        match_method=product.match_method,
        matched_field=product.matched_field,
        variants=[VariantOut.model_validate(v) for v in product.variants],
        images=[ImageOut(src=i.src, position=i.position, alt=i.alt_text) for i in product.images],
        metafields=[
            SpecificationOut(namespace=m.namespace, key=m.key, type=m.type, value=m.value)
            for m in product.metafields
        ],
        provenance=product.provenance or {},
        locks=product.locks or {},
        versions=[VersionOut.model_validate(v) for v in versions[:20]],
    )


@router.get("", response_model=ProductPage)
def list_products(
    _: Viewer,
    session: SessionDep,
    query: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str | None, Query(max_length=20)] = None,
    vendor: Annotated[str | None, Query(max_length=255)] = None,
    product_type: Annotated[str | None, Query(max_length=255)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> ProductPage:
    filters = ProductFilter(query, status, vendor, product_type)
    products, total = search_products(session, filters, page, page_size)
    return ProductPage(
        items=[ProductSummary.of(p) for p in products], total=total, page=page, page_size=page_size
    )


@router.get("/{product_id}", response_model=ProductDetail)
def get_product(product_id: int, _: Viewer, session: SessionDep) -> ProductDetail:
    product = editing.load_product(session, product_id)
    return _detail(product, editing.history(session, product_id))


@router.patch("/{product_id}", response_model=ProductDetail)
def edit_product(
    product_id: int, body: ProductEdit, request: Request, principal: Editor, session: SessionDep
) -> ProductDetail:
    edits = body.model_dump(exclude_unset=True)
    product = editing.edit_product(session, product_id, edits, principal.user.id)
    audit(request, product_id=product_id, fields=sorted(edits))
    return _detail(product, editing.history(session, product_id))


@router.delete("/{product_id}/locks/{field}", response_model=ProductDetail)
def release_lock(
    product_id: int, field: str, request: Request, _: Editor, session: SessionDep
) -> ProductDetail:
    product = editing.release_lock(session, product_id, field)
    audit(request, product_id=product_id, field=field)
    return _detail(product, editing.history(session, product_id))


@router.get("/{product_id}/history", response_model=list[VersionOut])
def product_history(product_id: int, _: Viewer, session: SessionDep) -> list[VersionOut]:
    return [VersionOut.model_validate(v) for v in editing.history(session, product_id)]
