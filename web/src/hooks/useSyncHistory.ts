import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { fetchHistory, fetchJob, type HistoryFilters } from "../api/push";
import { queryKeys } from "./queryKeys";

/** Past pulls and pushes, newest first, a page at a time (cursor paging). A job ending (a live
 * `job.state`) refreshes the pages already loaded, so a finished push appears on its own. */
export function useSyncHistory(filters: HistoryFilters) {
  return useInfiniteQuery({
    queryKey: [...queryKeys.syncHistory, "list", filters],
    queryFn: ({ pageParam, signal }) => fetchHistory(filters, pageParam, signal),
    initialPageParam: null as number | null,
    getNextPageParam: (page) => page.next_cursor,
  });
}

/** The job behind a history row: its result holds the per-change errors and the counts. */
export function useSyncHistoryJob(jobId: number | null, enabled: boolean) {
  return useQuery({
    queryKey: [...queryKeys.syncHistory, "job", jobId],
    queryFn: ({ signal }) => fetchJob(jobId as number, signal),
    enabled: enabled && jobId !== null,
  });
}
