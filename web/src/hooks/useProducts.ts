// The product list: its filters live in the URL (shareable, kept on reload and on Back), its
// pages come from the server. Live events invalidate everything under queryKeys.products when
// a job finishes (an import, a pull, a push, a batch).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import {
  NO_FILTERS,
  PAGE_SIZES,
  SYNC_STATES,
  listProducts,
  productFacets,
  type ProductFilters,
  type SyncState,
} from "../api/products";
import { queryKeys } from "./queryKeys";

const DEFAULT_PAGE_SIZE = 50;

function positive(text: string | null): number | null {
  const n = Number(text);
  return text !== null && Number.isInteger(n) && n > 0 ? n : null;
}

/** Filters from URL parameters (q, status, vendor, type, sync, store). */
export function filtersFromParams(params: URLSearchParams): ProductFilters {
  const sync = params.get("sync");
  return {
    query: params.get("q") ?? "",
    status: params.get("status") || null,
    vendor: params.get("vendor") || null,
    product_type: params.get("type") || null,
    sync_status: SYNC_STATES.includes(sync as SyncState) ? (sync as SyncState) : null,
    store_id: positive(params.get("store")),
  };
}

/** The URL parameters of some filters (empty ones left out). */
export function filtersToParams(filters: ProductFilters, into = new URLSearchParams()) {
  const values: [string, string | number | null][] = [
    ["q", filters.query.trim() || null],
    ["status", filters.status],
    ["vendor", filters.vendor],
    ["type", filters.product_type],
    ["sync", filters.sync_status],
    ["store", filters.store_id],
  ];
  for (const [name, value] of values) {
    if (value === null || value === "") into.delete(name);
    else into.set(name, String(value));
  }
  return into;
}

export function hasFilters(filters: ProductFilters): boolean {
  return JSON.stringify({ ...filters, query: filters.query.trim() }) !== JSON.stringify(NO_FILTERS);
}

/** The list's filters, page and page size, read from and written to the URL. */
export function useProductListParams() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const page = positive(params.get("page")) ?? 1;
  const size = positive(params.get("size"));
  const pageSize = PAGE_SIZES.find((n) => n === size) ?? DEFAULT_PAGE_SIZE;

  const setFilters = useCallback(
    (change: Partial<ProductFilters>) =>
      setParams(
        (current) => {
          const next = filtersToParams({ ...filtersFromParams(current), ...change }, current);
          next.delete("page"); // other filters, other pages: back to the first
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  const setPage = useCallback(
    (value: number) =>
      setParams((current) => {
        const next = new URLSearchParams(current);
        if (value <= 1) next.delete("page");
        else next.set("page", String(value));
        return next;
      }),
    [setParams],
  );
  const setPageSize = useCallback(
    (value: number) =>
      setParams((current) => {
        const next = new URLSearchParams(current);
        next.set("size", String(value));
        next.delete("page");
        return next;
      }),
    [setParams],
  );
  return { filters, page, pageSize, setFilters, setPage, setPageSize };
}

export function useProductList(filters: ProductFilters, page: number, pageSize: number) {
  return useQuery({
    queryKey: [...queryKeys.products, "list", filters, page, pageSize],
    queryFn: ({ signal }) => listProducts(filters, page, pageSize, signal),
    placeholderData: keepPreviousData, // the table stays while the next page loads
  });
}

/** How many products some filters select (a page of one, for its total). */
export function useMatchCount(filters: ProductFilters, enabled = true) {
  return useQuery({
    queryKey: [...queryKeys.products, "count", filters],
    queryFn: ({ signal }) => listProducts(filters, 1, 1, signal),
    select: (page) => page.total,
    enabled,
  });
}

/** Vendors, product types and statuses of the catalog, for the filters' pick lists. */
export function useProductFacets() {
  return useQuery({
    queryKey: [...queryKeys.products, "facets"],
    queryFn: ({ signal }) => productFacets(signal),
  });
}
