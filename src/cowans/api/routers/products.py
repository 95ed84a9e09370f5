"""The master catalog: list, read, edit (which locks), release locks, history."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cowans.api.deps import Editor, SessionDep, Viewer, audit
from cowans.api.errors import error_responses
from cowans.api.schemas import Id
from cowans.catalog import editing, queries
from cowans.catalog.queries import MAX_PAGE_SIZE, ProductFilter, SyncState, search_products
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
    sync_state: Annotated[
        SyncState,
        Field(
            description="With the store the list is filtered on, else the most urgent over "
            "the active stores: conflict, pending, synced, never_synced."
        ),
    ] = SyncState.NEVER_SYNCED

    @classmethod
    def listed(cls, product: queries.ListedProduct, sync_state: SyncState) -> "ProductSummary":
        return cls(**vars(product), sync_state=sync_state)

    @classmethod
    def of(cls, product: Product, sync_state: SyncState | None = None) -> "ProductSummary":
        listed = queries.listed_product(product, product.variants)
        return cls.listed(listed, sync_state or SyncState.NEVER_SYNCED)


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


class StoreSyncOut(BaseModel):
    """Where the product stands with one store, and the open change to look at, if any."""

    store_id: int
    store_name: str
    store_active: bool
    state: SyncState
    last_synced_at: datetime | None
    last_pushed_at: datetime | None
    last_pulled_at: datetime | None
    open_change_id: int | None
    open_change_status: str | None
    open_change_direction: str | None
    open_changes: int

    @classmethod
    def of(cls, sync: queries.StoreSync) -> "StoreSyncOut":
        return cls(
            store_id=sync.store_id,
            store_name=sync.store_name,
            store_active=sync.store_active,
            state=sync.state,
            last_synced_at=sync.last_synced_at,
            last_pushed_at=sync.last_pushed_at,
            last_pulled_at=sync.last_pulled_at,
            open_change_id=sync.open_change_id,
            open_change_status=sync.open_change_status,
            open_change_direction=sync.open_change_direction,
            open_changes=sync.open_changes,
        )


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
    sync: list[StoreSyncOut]


class Facets(BaseModel):
    vendors: list[str]
    product_types: list[str]
    statuses: list[str]


class SkuLookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skus: Annotated[
        list[Annotated[str, Field(max_length=255)]],
        Field(max_length=queries.MAX_SKU_LOOKUP),
    ]


class SkuLookupOut(BaseModel):
    product_ids: list[int]
    found: int
    missing: Annotated[
        list[str], Field(description=f"The first {queries.MAX_MISSING_LISTED} not found.")
    ]
    missing_total: int


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


def _detail(session: Session, product: Product) -> ProductDetail:
    versions = editing.history(session, product.id)
    sync = queries.store_sync(session, product.id)
    summary = ProductSummary.of(product, queries.sync_states(session, [product.id])[product.id])
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
        sync=[StoreSyncOut.of(store) for store in sync],
    )


# 404: a `store_id` naming no store.
@router.get("", response_model=ProductPage, responses=error_responses(404))
def list_products(
    _: Viewer,
    session: SessionDep,
    query: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str | None, Query(max_length=20)] = None,
    vendor: Annotated[str | None, Query(max_length=255)] = None,
    product_type: Annotated[str | None, Query(max_length=255)] = None,
    sync_status: Annotated[
        SyncState | None,
        Query(
            description="conflict, pending (any open staged change, conflicts included), "
            "synced (nothing open, in the store) or never_synced (nothing open, never in it)."
        ),
    ] = None,
    store_id: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="The store sync_status is about; default: any."),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> ProductPage:
    filters = ProductFilter(
        query,
        status,
        vendor,
        product_type,
        sync_status=sync_status.value if sync_status else None,
        store_id=store_id,
    )
    products, total = search_products(session, filters, page, page_size)
    states = queries.sync_states(session, [p.id for p in products], store_id)
    return ProductPage(
        items=[ProductSummary.listed(p, states[p.id]) for p in products],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/facets", response_model=Facets)
def product_facets(_: Viewer, session: SessionDep) -> Facets:
    """The vendors, product types and statuses of the live catalog, for the list's filters."""
    found = queries.facets(session)
    return Facets(vendors=found.vendors, product_types=found.product_types, statuses=found.statuses)


@router.post("/lookup-skus", response_model=SkuLookupOut)
def lookup_skus(body: SkuLookupIn, _: Viewer, session: SessionDep) -> SkuLookupOut:
    """Which pasted SKUs name a catalog product: checked before a batch runs over them."""
    found = queries.lookup_skus(session, body.skus)
    return SkuLookupOut(
        product_ids=found.product_ids,
        found=found.found,
        missing=found.missing,
        missing_total=found.missing_total,
    )


@router.get("/{product_id}", response_model=ProductDetail)
def get_product(product_id: Id, _: Viewer, session: SessionDep) -> ProductDetail:
    return _detail(session, editing.load_product(session, product_id))


@router.patch("/{product_id}", response_model=ProductDetail)
def edit_product(
    product_id: Id, body: ProductEdit, request: Request, principal: Editor, session: SessionDep
) -> ProductDetail:
    edits = body.model_dump(exclude_unset=True)
    product = editing.edit_product(session, product_id, edits, principal.user.id)
    audit(request, product_id=product_id, fields=sorted(edits))
    return _detail(session, product)


@router.delete("/{product_id}/locks/{field}", response_model=ProductDetail)
def release_lock(
    product_id: Id, field: str, request: Request, _: Editor, session: SessionDep
) -> ProductDetail:
    product = editing.release_lock(session, product_id, field)
    audit(request, product_id=product_id, field=field)
    return _detail(session, product)


@router.get("/{product_id}/history", response_model=list[VersionOut])
def product_history(product_id: Id, _: Viewer, session: SessionDep) -> list[VersionOut]:
    return [VersionOut.model_validate(v) for v in editing.history(session, product_id)]
