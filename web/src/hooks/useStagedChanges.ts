// The review list: filters live in the URL (a link or a reload keeps them), pages come from the
// server a hundred at a time ("Load more"), and `staged.changed` live events invalidate every
// key under queryKeys.staged, so the list follows other reviewers, pulls and pushes by itself.
import {
  infiniteQueryOptions,
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import {
  DIRECTIONS,
  OPERATIONS,
  decideChanges,
  listStagedChanges,
  stagedFacets,
  type DecisionRequest,
  type Direction,
  type Operation,
  type ReviewFilters,
  type StagedChange,
} from "../api/review";
import { STAGED_STATUSES, type StagedStatus } from "../api/types";
import { queryKeys } from "./queryKeys";
import { syncStatusQuery } from "./useSyncStatus";

export const reviewKeys = {
  list: (filters: ReviewFilters) => [...queryKeys.staged, "review", "list", filters] as const,
  facets: (filters: ReviewFilters) => [...queryKeys.staged, "review", "facets", filters] as const,
};

/** What the page shows when the URL names no status: the changes waiting for a decision. */
export const DEFAULT_STATUS: StagedStatus = "pending";
const ANY = "all";

function oneOf<T extends string>(values: readonly T[], text: string | null): T | null {
  return values.includes(text as T) ? (text as T) : null;
}

/** Filters from URL parameters: status (default pending, "all" for any), direction, op, vendor,
 * type, store_id, conflicts, q (the home page links here with status and store_id). */
export function filtersFromParams(params: URLSearchParams): ReviewFilters {
  const status = params.get("status");
  const store = Number(params.get("store_id"));
  return {
    status: status === ANY ? null : (oneOf(STAGED_STATUSES, status) ?? DEFAULT_STATUS),
    direction: oneOf<Direction>(DIRECTIONS, params.get("direction")),
    operation_type: oneOf<Operation>(OPERATIONS, params.get("op")),
    vendor: params.get("vendor") || null,
    product_type: params.get("type") || null,
    store_id: Number.isInteger(store) && store > 0 ? store : null,
    conflicts_only: params.get("conflicts") === "1",
    query: params.get("q") ?? "",
  };
}

export function filtersToParams(filters: ReviewFilters, into = new URLSearchParams()) {
  const values: [string, string | null][] = [
    ["status", filters.status === DEFAULT_STATUS ? null : (filters.status ?? ANY)],
    ["direction", filters.direction],
    ["op", filters.operation_type],
    ["vendor", filters.vendor],
    ["type", filters.product_type],
    ["store_id", filters.store_id === null ? null : String(filters.store_id)],
    ["conflicts", filters.conflicts_only ? "1" : null],
    ["q", filters.query.trim() || null],
  ];
  for (const [name, value] of values) {
    if (value === null || value === "") into.delete(name);
    else into.set(name, value);
  }
  return into;
}

export const NO_FILTERS: ReviewFilters = filtersFromParams(new URLSearchParams());

export function hasFilters(filters: ReviewFilters): boolean {
  return JSON.stringify({ ...filters, query: filters.query.trim() }) !== JSON.stringify(NO_FILTERS);
}

/** The filters in the URL, and a setter that keeps the other parameters. */
export function useReviewFilters() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const setFilters = useCallback(
    (change: Partial<ReviewFilters>) =>
      setParams(
        (current) => filtersToParams({ ...filtersFromParams(current), ...change }, current),
        { replace: true },
      ),
    [setParams],
  );
  const clearFilters = useCallback(
    () => setParams((current) => filtersToParams(NO_FILTERS, current), { replace: true }),
    [setParams],
  );
  return { filters, setFilters, clearFilters };
}

/** The list's query, shared by the page and its prefetch so that both use one cache entry. */
function reviewListQuery(filters: ReviewFilters) {
  return infiniteQueryOptions({
    queryKey: reviewKeys.list(filters),
    queryFn: ({ pageParam, signal }) => listStagedChanges(filters, pageParam, signal),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_cursor,
  });
}

/** Ask for the first page of the list the URL names, and the sync overview, while the review
 * page's code is still on its way: on a first visit the two would otherwise come one after
 * the other. Errors are left to the page's own queries, which show them. */
export function prefetchReview(client: QueryClient, params: URLSearchParams): void {
  void client.prefetchInfiniteQuery(reviewListQuery(filtersFromParams(params)));
  void client.prefetchQuery(syncStatusQuery);
}

/** The changes matching the filters, page after page, with the total and the newest id. */
export function useStagedChanges(filters: ReviewFilters) {
  const query = useInfiniteQuery({
    ...reviewListQuery(filters),
    placeholderData: keepPreviousData,
  });
  const rows: StagedChange[] = useMemo(
    () => query.data?.pages.flatMap((page) => page.items) ?? [],
    [query.data],
  );
  const first = query.data?.pages[0];
  return {
    ...query,
    rows,
    total: first?.total ?? 0,
    maxId: first?.max_id ?? null,
  };
}

/** The vendors and product types among the matching changes, for the filter menus. */
export function useStagedFacets(filters: ReviewFilters) {
  return useQuery({
    queryKey: reviewKeys.facets(filters),
    queryFn: ({ signal }) => stagedFacets(filters, signal),
    placeholderData: keepPreviousData,
  });
}

/** Approve or reject; the list, the counts and the sync overview follow. */
export function useStagedDecision() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: DecisionRequest) => decideChanges(body),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.staged });
      void client.invalidateQueries({ queryKey: queryKeys.syncStatus });
    },
  });
}
