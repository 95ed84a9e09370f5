// The review of staged changes: the list (filtered, a page at a time), its filter menus and the
// decisions. Every field read or sent here is listed in contract/review.json.

import { api } from "./client";
import type { StagedStatus } from "./types";

export type Direction = "push" | "pull";
export type Operation = "create" | "update" | "delete";
export const DIRECTIONS: Direction[] = ["push", "pull"];
export const OPERATIONS: Operation[] = ["create", "update", "delete"];

/** One field of a change: the store's value (`old`), ours (`new`) and, for a conflict,
 * Shopify's current one (`remote`); `resolution` once a person settled a conflict. */
export interface FieldChange {
  old?: unknown;
  new?: unknown;
  remote?: unknown;
  resolution?: "local" | "remote" | "value";
}

export interface StagedChange {
  id: number;
  sync_job_id: number | null;
  product_id: number | null;
  store_id: number;
  handle: string;
  title: string;
  vendor: string;
  product_type: string;
  direction: Direction;
  operation_type: Operation;
  changes: Record<string, FieldChange>;
  status: StagedStatus;
  conflict_fields: string[];
  error: string | null;
  created_at: string;
  approved_at: string | null;
  approved_by: number | null;
  approval_rule: string | null;
  applied_at: string | null;
}

export interface StagedReviewPage {
  items: StagedChange[];
  total: number;
  next_cursor: number | null;
  /** The newest id matching: a decision over the filter covers nothing staged after it. */
  max_id: number | null;
}

/** The list's filters, as the URL and the API name them (null: any). */
export interface ReviewFilters {
  status: StagedStatus | null;
  direction: Direction | null;
  operation_type: Operation | null;
  vendor: string | null;
  product_type: string | null;
  store_id: number | null;
  conflicts_only: boolean;
  query: string;
}

export interface Facet {
  value: string;
  count: number;
}

export interface StagedFacets {
  vendors: Facet[];
  product_types: Facet[];
}

/** How a person settles one conflicting field. */
export type Resolution = "local" | "remote" | { value: unknown };

export interface DecisionRequest {
  decision: "approve" | "reject";
  ids?: number[];
  filter?: Partial<Omit<ReviewFilters, "query">> & { query?: string; max_id?: number };
  resolutions?: Record<string, Record<string, Resolution>>;
}

export interface DecisionResult {
  approved: number;
  rejected: number;
  unresolved_conflicts: number;
  skipped: number;
}

export const PAGE_SIZE = 100;

/** The filters as query parameters, empty ones left out. */
export function filterQuery(filters: ReviewFilters): Record<string, string | number | boolean> {
  const query: Record<string, string | number | boolean> = {};
  if (filters.status) query.status = filters.status;
  if (filters.direction) query.direction = filters.direction;
  if (filters.operation_type) query.operation_type = filters.operation_type;
  if (filters.vendor) query.vendor = filters.vendor;
  if (filters.product_type) query.product_type = filters.product_type;
  if (filters.store_id !== null) query.store_id = filters.store_id;
  if (filters.conflicts_only) query.conflicts_only = true;
  if (filters.query.trim()) query.query = filters.query.trim();
  return query;
}

export function listStagedChanges(
  filters: ReviewFilters,
  cursor: number | null,
  signal: AbortSignal,
): Promise<StagedReviewPage> {
  const query: Record<string, string | number | boolean> = {
    ...filterQuery(filters),
    limit: PAGE_SIZE,
  };
  if (cursor !== null) query.cursor = cursor;
  return api<StagedReviewPage>("/api/enhanced-sync/staged-changes", { query, signal });
}

export function stagedFacets(filters: ReviewFilters, signal: AbortSignal): Promise<StagedFacets> {
  return api<StagedFacets>("/api/enhanced-sync/staged-changes/facets", {
    query: filterQuery(filters),
    signal,
  });
}

export function decideChanges(body: DecisionRequest): Promise<DecisionResult> {
  return api<DecisionResult>("/api/enhanced-sync/approve-changes", { method: "POST", body });
}
