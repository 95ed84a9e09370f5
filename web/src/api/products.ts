// The catalog (src/cowans/api/routers/products.py): the list with its filters, one product with
// everything about it, edits (which lock), releasing locks, history. Every field read here is
// listed in contract/products.json.
import { api } from "./client";

export const PRODUCT_STATUSES = ["active", "draft", "archived"] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

export const SYNC_STATES = ["conflict", "pending", "synced", "never_synced"] as const;
export type SyncState = (typeof SYNC_STATES)[number];

/** The filters of GET /api/products, as the URL and the batch filter carry them. */
export interface ProductFilters {
  query: string;
  status: string | null;
  vendor: string | null;
  product_type: string | null;
  sync_status: SyncState | null;
  store_id: number | null;
}

export const NO_FILTERS: ProductFilters = {
  query: "",
  status: null,
  vendor: null,
  product_type: null,
  sync_status: null,
  store_id: null,
};

export interface ProductSummary {
  id: number;
  handle: string;
  title: string;
  vendor: string;
  product_type: string;
  status: string;
  tags: string[];
  sku: string | null;
  price: string | null;
  inventory_total: number;
  version: number;
  locked_fields: string[];
  updated_at: string;
  sync_state: SyncState;
}

export interface ProductPage {
  items: ProductSummary[];
  total: number;
  page: number;
  page_size: number;
}

export interface Variant {
  id: number;
  sku: string;
  barcode: string;
  price: string | null;
  compare_at_price: string | null;
  inventory_policy: string;
  inventory: Record<string, number>;
  weight_grams: string | null;
  option1_name: string;
  option1_value: string;
}

export interface ProductImage {
  src: string;
  position: number;
  alt: string;
}

export interface Specification {
  namespace: string;
  key: string;
  type: string;
  value: unknown;
}

/** Where a field's value came from: a feed (with its import) or a person. */
export interface Provenance {
  source?: string;
  import_id?: number | null;
  user_id?: number | null;
  at?: string;
}

export interface Lock {
  by?: number | null;
  at?: string;
  source?: string;
}

export interface Version {
  version: number;
  created_at: string;
  source: string;
  import_id: number | null;
  user_id: number | null;
  changes: Record<string, [unknown, unknown]>;
}

export interface StoreSync {
  store_id: number;
  store_name: string;
  store_active: boolean;
  state: SyncState;
  last_synced_at: string | null;
  last_pushed_at: string | null;
  last_pulled_at: string | null;
  open_change_id: number | null;
  open_change_status: string | null;
  open_change_direction: string | null;
  open_changes: number;
}

export interface ProductDetail extends ProductSummary {
  body_html: string;
  published: boolean;
  seo_title: string;
  seo_description: string;
  variants: Variant[];
  images: ProductImage[];
  metafields: Specification[];
  provenance: Record<string, Provenance>;
  locks: Record<string, Lock>;
  sync: StoreSync[];
}

export interface Facets {
  vendors: string[];
  product_types: string[];
  statuses: string[];
}

export interface SkuLookup {
  product_ids: number[];
  found: number;
  missing: string[];
  missing_total: number;
}

/** The fields PATCH /api/products/{id} takes; each one sent is locked against the feeds. */
export const EDITABLE_FIELDS = [
  "title",
  "body_html",
  "vendor",
  "product_type",
  "tags",
  "status",
  "published",
  "seo_title",
  "seo_description",
  "barcode",
  "price",
  "inventory_policy",
] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];
export type ProductEdit = Partial<Record<EditableField, string | boolean | string[]>>;

export const PAGE_SIZES = [25, 50, 100, 200] as const;

export function filterQuery(filters: ProductFilters) {
  return {
    query: filters.query.trim() || undefined,
    status: filters.status ?? undefined,
    vendor: filters.vendor ?? undefined,
    product_type: filters.product_type ?? undefined,
    sync_status: filters.sync_status ?? undefined,
    store_id: filters.store_id ?? undefined,
  };
}

export function listProducts(
  filters: ProductFilters,
  page: number,
  pageSize: number,
  signal?: AbortSignal,
): Promise<ProductPage> {
  return api<ProductPage>("/api/products", {
    query: { ...filterQuery(filters), page, page_size: pageSize },
    ...(signal ? { signal } : {}),
  });
}

export function getProduct(id: number, signal?: AbortSignal): Promise<ProductDetail> {
  return api<ProductDetail>(`/api/products/${id}`, signal ? { signal } : {});
}

export function productHistory(id: number, signal?: AbortSignal): Promise<Version[]> {
  return api<Version[]>(`/api/products/${id}/history`, signal ? { signal } : {});
}

export function editProduct(id: number, edit: ProductEdit): Promise<ProductDetail> {
  return api<ProductDetail>(`/api/products/${id}`, { method: "PATCH", body: edit });
}

export function releaseLock(id: number, field: string): Promise<ProductDetail> {
  return api<ProductDetail>(`/api/products/${id}/locks/${encodeURIComponent(field)}`, {
    method: "DELETE",
  });
}

export function productFacets(signal?: AbortSignal): Promise<Facets> {
  return api<Facets>("/api/products/facets", signal ? { signal } : {});
}

export function lookupSkus(skus: string[], signal?: AbortSignal): Promise<SkuLookup> {
  return api<SkuLookup>("/api/products/lookup-skus", {
    method: "POST",
    body: { skus },
    ...(signal ? { signal } : {}),
  });
}
