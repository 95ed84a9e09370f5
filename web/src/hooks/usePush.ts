import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  fetchPlan,
  fetchPushStatus,
  listPushStores,
  startPush,
  stopPush,
  type PushConfig,
  type PushStatus,
} from "../api/push";
import { queryKeys } from "./queryKeys";

const PLAN_DEBOUNCE_MS = 400;
const RUNNING_POLL_MS = 1_000;

export const pushKeys = {
  // The store list of the stores area, under a key of its own (the settings page keeps its
  // own shape under ["stores", "list"]); store changes invalidate the whole prefix.
  stores: [...queryKeys.stores, "push-picker"] as const,
  status: (storeId: number | null) => [...queryKeys.pushStatus, "status", storeId] as const,
  plan: (storeId: number | null, config: PushConfig, approved: number) =>
    [...queryKeys.pushStatus, "plan", storeId, config, approved] as const,
};

export function isRunning(status: PushStatus | undefined): boolean {
  return status !== undefined && status.state !== "idle";
}

/** The Shopify stores a push can go to (GET /api/shopify/stores). */
export function usePushStores() {
  return useQuery({
    queryKey: pushKeys.stores,
    queryFn: ({ signal }) => listPushStores(signal),
  });
}

/** The store's running (else latest) push. Live events refresh it when a push starts or ends;
 * while one runs it is polled every second for its counters. */
export function usePushStatus(storeId: number | null) {
  return useQuery({
    queryKey: pushKeys.status(storeId),
    queryFn: ({ signal }) => fetchPushStatus(storeId, signal),
    refetchInterval: (query) => (isRunning(query.state.data) ? RUNNING_POLL_MS : false),
  });
}

/** The planner's prediction for the form as it stands, asked again once the form has been
 * still for a moment. `approved` (the store's approved count) is part of the key, so an
 * approval elsewhere (a live `staged.changed`) asks again too. */
export function usePushPlan(
  storeId: number | null,
  config: PushConfig,
  approved: number,
  enabled: boolean,
) {
  const [settled] = useDebouncedValue(config, PLAN_DEBOUNCE_MS);
  return useQuery({
    queryKey: pushKeys.plan(storeId, settled, approved),
    queryFn: ({ signal }) => fetchPlan(storeId as number, settled, signal),
    enabled: enabled && storeId !== null,
    placeholderData: keepPreviousData,
    staleTime: 5_000,
  });
}

function useRefreshPush() {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: queryKeys.pushStatus });
    void client.invalidateQueries({ queryKey: queryKeys.jobs });
  };
}

export function useStartPush() {
  const refresh = useRefreshPush();
  return useMutation({
    mutationFn: ({ storeId, config }: { storeId: number; config: PushConfig }) =>
      startPush(storeId, config),
    onSuccess: refresh,
  });
}

export function useStopPush() {
  const refresh = useRefreshPush();
  return useMutation({
    mutationFn: (jobId: number) => stopPush(jobId),
    onSuccess: refresh,
  });
}
