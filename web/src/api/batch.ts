// Batch operations (src/cowans/api/routers/batch.py): start one over ids, a filter or pasted SKUs,
// follow it, cancel it, retry its failed items, download an export. Recent batches come from
// GET /api/jobs?kind_prefix=batch. (a batch is a job of kind batch.<operation>).
import { api, downloadFile } from "./client";
import type { SyncState } from "./products";

export const OPERATIONS = ["update", "delete", "export"] as const;
export type Operation = (typeof OPERATIONS)[number];
export const EXPORT_FORMATS = ["csv", "xlsx"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type BatchState =
  "queued" | "running" | "completed" | "completed_with_errors" | "failed" | "cancelled";

export interface BatchFilter {
  query?: string;
  status?: string;
  vendor?: string;
  product_type?: string;
  skus?: string[];
  sync_status?: SyncState;
  store_id?: number;
}

export interface BatchUpdates {
  status?: string;
  tags?: string[];
  tags_remove?: string[];
  vendor?: string;
  product_type?: string;
  price_adjust_percent?: number;
}

export interface BatchRequest {
  operation: Operation;
  product_ids?: number[];
  filter?: BatchFilter;
  updates?: BatchUpdates;
  format?: ExportFormat;
  push?: boolean;
}

export interface BatchStarted {
  batch_id: number;
  total: number;
}

export interface BatchError {
  product_id: number | null;
  message: string | null;
}

export interface BatchStatus {
  batch_id: number;
  operation: Operation;
  state: BatchState;
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
  errors: BatchError[];
  result_url: string | null;
  push_jobs: number[];
  format: string | null;
  phase: string;
  error: string | null;
  cancel_requested: boolean;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

/** A batch as GET /api/jobs lists it: its request is the job's config. */
export interface BatchJob {
  id: number;
  kind: string;
  state: BatchState;
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
  created_at: string | null;
  finished_at: string | null;
  config: { operation?: string; format?: string | null; push?: boolean };
}

export interface BatchJobPage {
  items: BatchJob[];
  total: number;
}

export const BATCH_KIND_PREFIX = "batch.";

export function isRunning(state: BatchState): boolean {
  return state === "queued" || state === "running";
}

export function startBatch(request: BatchRequest): Promise<BatchStarted> {
  return api<BatchStarted>("/api/batch/process", { method: "POST", body: request });
}

export function batchStatus(id: number, signal?: AbortSignal): Promise<BatchStatus> {
  return api<BatchStatus>(`/api/batch/status/${id}`, signal ? { signal } : {});
}

export function cancelBatch(id: number): Promise<{ batch_id: number; state: BatchState }> {
  return api(`/api/batch/cancel/${id}`, { method: "POST" });
}

export function retryBatch(id: number): Promise<{ batch_id: number; retried: number }> {
  return api(`/api/batch/retry/${id}`, { method: "POST" });
}

export function recentBatches(limit: number, signal?: AbortSignal): Promise<BatchJobPage> {
  return api<BatchJobPage>("/api/jobs", {
    query: { kind_prefix: BATCH_KIND_PREFIX, limit },
    ...(signal ? { signal } : {}),
  });
}

/** An export, saved as a file (a plain link would carry no bearer header). */
export const downloadResult = (url: string, fallbackName: string): Promise<void> =>
  downloadFile(url, fallbackName);
