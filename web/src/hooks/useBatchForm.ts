// The batch page's form: which products (ids from the Products page, a filter, or pasted SKUs)
// and what to do with them. The selection arrives in the URL (?ids=1,2 or ?mode=filter&...),
// so "Batch edit selected" survives a reload.
import { useDebouncedValue } from "@mantine/hooks";
import { useMemo, useState } from "react";
import { useSearchParams } from "react-router-dom";
import type {
  BatchFilter,
  BatchRequest,
  BatchUpdates,
  ExportFormat,
  Operation,
} from "../api/batch";
import { filterQuery, type ProductFilters } from "../api/products";
import { count } from "../format";
import { parseSkus, useSkuLookup } from "./useBatch";
import { filtersFromParams, useMatchCount } from "./useProducts";

export type SelectionMode = "ids" | "filter" | "skus";
export const MAX_SKUS = 25_000;
const SKU_DEBOUNCE_MS = 400;

function idsFrom(text: string | null): number[] {
  if (!text) return [];
  const ids = text
    .split(",")
    .map(Number)
    .filter((id) => Number.isInteger(id) && id > 0);
  return [...new Set(ids)];
}

export function toBatchFilter(filters: ProductFilters): BatchFilter {
  const query = filterQuery(filters);
  const filter: BatchFilter = {};
  if (query.query) filter.query = query.query;
  if (query.status) filter.status = query.status;
  if (query.vendor) filter.vendor = query.vendor;
  if (query.product_type) filter.product_type = query.product_type;
  if (query.sync_status) filter.sync_status = query.sync_status;
  if (query.store_id) filter.store_id = query.store_id;
  return filter;
}

export function useBatchSelection() {
  const [params] = useSearchParams();
  const ids = useMemo(() => idsFrom(params.get("ids")), [params]);
  const [mode, setMode] = useState<SelectionMode>(
    ids.length ? "ids" : params.get("mode") === "filter" ? "filter" : "skus",
  );
  const [filters, setFilters] = useState<ProductFilters>(() => filtersFromParams(params));
  const [skuText, setSkuText] = useState("");
  const [settledText] = useDebouncedValue(skuText, SKU_DEBOUNCE_MS);
  const skus = useMemo(() => parseSkus(settledText), [settledText]);
  const tooMany = skus.length > MAX_SKUS;
  const lookup = useSkuLookup(mode === "skus" && !tooMany ? skus : []);
  const matches = useMatchCount(filters, mode === "filter");

  let selected: number | null = null; // how many products the batch would take
  let problem: string | null = null; // why it cannot start yet
  let part: Pick<BatchRequest, "product_ids" | "filter"> = {};
  if (mode === "ids") {
    selected = ids.length;
    part = { product_ids: ids };
    if (!ids.length) problem = "No products were selected on the Products page.";
  } else if (mode === "filter") {
    selected = matches.data ?? null;
    part = { filter: toBatchFilter(filters) };
    if (matches.data === 0) problem = "The filter matches no products.";
  } else {
    selected = lookup.data?.found ?? null;
    part = { filter: { skus } };
    if (!skuText.trim()) problem = "Paste the SKUs of the products first.";
    else if (tooMany)
      problem = `${count(skus.length, "SKU")} is more than the ${MAX_SKUS.toLocaleString()} a batch takes.`;
    else if (lookup.data?.found === 0) problem = "None of these SKUs is in the catalog.";
    else if (skuText !== settledText) selected = null; // still typing
  }
  return {
    mode,
    setMode,
    ids,
    filters,
    setFilters,
    skuText,
    setSkuText,
    skus,
    lookup,
    matches,
    selected,
    problem,
    part,
  };
}

export type BatchSelection = ReturnType<typeof useBatchSelection>;

export interface OperationForm {
  operation: Operation;
  status: string | null;
  tags: string[];
  tagsRemove: string[];
  vendor: string;
  productType: string;
  pricePercent: number | string;
  format: ExportFormat;
  push: boolean;
}

export const EMPTY_FORM: OperationForm = {
  operation: "update",
  status: null,
  tags: [],
  tagsRemove: [],
  vendor: "",
  productType: "",
  pricePercent: "",
  format: "csv",
  push: false,
};

/** The request's operation part, or why the form is not complete. */
export function operationRequest(form: OperationForm): {
  part: Omit<BatchRequest, "product_ids" | "filter">;
  problem: string | null;
} {
  if (form.operation === "export")
    return { part: { operation: "export", format: form.format }, problem: null };
  const push = form.push ? { push: true } : {};
  if (form.operation === "delete") return { part: { operation: "delete", ...push }, problem: null };
  const updates: BatchUpdates = {};
  if (form.status) updates.status = form.status;
  if (form.tags.length) updates.tags = form.tags;
  if (form.tagsRemove.length) updates.tags_remove = form.tagsRemove;
  if (form.vendor.trim()) updates.vendor = form.vendor.trim();
  if (form.productType.trim()) updates.product_type = form.productType.trim();
  if (form.pricePercent !== "" && Number(form.pricePercent) !== 0)
    updates.price_adjust_percent = Number(form.pricePercent);
  const both = form.tags.filter((tag) =>
    form.tagsRemove.some((removed) => removed.toLowerCase() === tag.toLowerCase()),
  );
  const problem = !Object.keys(updates).length
    ? "Choose at least one change: status, tags, vendor, type or a price adjustment."
    : both.length
      ? `Tag ${both.join(", ")} is both added and removed.`
      : null;
  return { part: { operation: "update", updates, ...push }, problem };
}
