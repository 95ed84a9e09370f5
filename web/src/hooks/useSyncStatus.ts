import { queryOptions, useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import type { StoreSyncStatus, SyncStatus } from "../api/types";
import { queryKeys } from "./queryKeys";

/** Last pull and push per store and staged changes by status (GET /api/enhanced-sync/status). */
export const syncStatusQuery = queryOptions({
  queryKey: queryKeys.syncStatus,
  queryFn: ({ signal }) => api<SyncStatus>("/api/enhanced-sync/status", { signal }),
});

export function useSyncStatus() {
  return useQuery(syncStatusQuery);
}

/** The stores, as the sync status lists them. */
export function useStores(): { stores: StoreSyncStatus[]; isPending: boolean } {
  const status = useSyncStatus();
  return { stores: status.data?.stores ?? [], isPending: status.isPending };
}
