// Batches: start one, follow it (polled every second while it runs: faster than the job events
// that only say when it starts and ends), cancel, retry, the recent ones, and the SKU check.
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  batchStatus,
  cancelBatch,
  isRunning,
  recentBatches,
  retryBatch,
  startBatch,
  type BatchRequest,
} from "../api/batch";
import { errorMessage } from "../api/client";
import { lookupSkus } from "../api/products";
import { queryKeys } from "./queryKeys";

const RUNNING_POLL_MS = 1_000;
const RECENT_LIMIT = 10;

export function batchKey(id: number) {
  return [...queryKeys.batches, "status", id] as const;
}

export function useBatchStatus(id: number | null) {
  return useQuery({
    queryKey: batchKey(id ?? 0),
    queryFn: ({ signal }) => batchStatus(id ?? 0, signal),
    enabled: id !== null,
    refetchInterval: (query) => {
      const state = query.state.data?.state;
      return state === undefined || isRunning(state) ? RUNNING_POLL_MS : false;
    },
  });
}

export function useRecentBatches() {
  return useQuery({
    queryKey: [...queryKeys.batches, "recent"],
    queryFn: ({ signal }) => recentBatches(RECENT_LIMIT, signal),
    refetchInterval: (query) =>
      query.state.data?.items.some((batch) => isRunning(batch.state)) ? 2 * RUNNING_POLL_MS : false,
  });
}

function useRefreshBatches() {
  const client = useQueryClient();
  return () => void client.invalidateQueries({ queryKey: queryKeys.batches });
}

export function useStartBatch() {
  const refresh = useRefreshBatches();
  return useMutation({
    mutationFn: (request: BatchRequest) => startBatch(request),
    onSuccess: refresh,
  });
}

export function useCancelBatch() {
  const refresh = useRefreshBatches();
  return useMutation({
    mutationFn: (id: number) => cancelBatch(id),
    onSuccess: (answer) => {
      refresh();
      notifications.show({
        title: `Batch #${answer.batch_id}`,
        message:
          answer.state === "cancelled"
            ? "Cancelled before it started."
            : "Stopping after the product it is on; what it finished stays done.",
      });
    },
    onError: (error) =>
      notifications.show({ color: "red", title: "Could not cancel", message: errorMessage(error) }),
  });
}

export function useRetryBatch() {
  const refresh = useRefreshBatches();
  return useMutation({
    mutationFn: (id: number) => retryBatch(id),
    onSuccess: (answer) => {
      refresh();
      notifications.show({
        title: `Batch #${answer.batch_id}`,
        message: `Retrying ${answer.retried.toLocaleString()} failed product${answer.retried === 1 ? "" : "s"}.`,
      });
    },
    onError: (error) =>
      notifications.show({ color: "red", title: "Could not retry", message: errorMessage(error) }),
  });
}

/** Pasted text to SKUs: one per line, or separated by commas, semicolons or tabs. */
export function parseSkus(text: string): string[] {
  const skus = text
    .split(/[\n\r,;\t]+/)
    .map((sku) => sku.trim())
    .filter(Boolean);
  return [...new Set(skus)];
}

/** Which of the SKUs name a product (the caller debounces the text). */
export function useSkuLookup(skus: string[]) {
  return useQuery({
    queryKey: [...queryKeys.products, "sku-lookup", skus],
    queryFn: ({ signal }) => lookupSkus(skus, signal),
    enabled: skus.length > 0,
  });
}
