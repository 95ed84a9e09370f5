// Batch operations (src/cowans/api/routers/batch.py): start one over ids, a filter or pasted SKUs,
// follow it, cancel it, retry its failed items, download an export. Recent batches come from
// GET /api/jobs?kind_prefix=batch. (a batch is a job of kind batch.<operation>).
import { currentToken, endSession } from "../auth/session";
import { ApiError, api } from "./client";
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

function filenameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match?.[1] ? decodeURIComponent(match[1]) : fallback;
}

/** Fetch an export with the bearer header (a plain link would have none) and save it. */
export async function downloadResult(url: string, fallbackName: string): Promise<void> {
  const token = currentToken();
  let response: Response;
  try {
    response = await fetch(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  } catch {
    throw new ApiError(0, "network_error", "Cannot reach the server. Check your connection.");
  }
  if (response.status === 401) endSession("expired");
  if (!response.ok) {
    let message = `The download failed (${response.status}).`;
    try {
      const body = (await response.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, "download_failed", message);
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filenameOf(response, fallbackName);
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
