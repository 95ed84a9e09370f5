// Pushing approved changes to Shopify and watching it (src/cowans/api/routers/sync.py): the
// planner's prediction, start and stop, the running push's figures and worker pool, and the
// history of past pulls and pushes. Every field read here is listed in contract/push.json.

import { api } from "./client";
import type { JobState } from "./types";

export const STRATEGIES = ["balanced", "speed", "cost"] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const PRIORITIES = ["low", "normal", "high"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The `config` of POST /api/sync/start and /api/sync/plan (API.md's names). */
export interface PushConfig {
  minWorkers: number;
  maxWorkers: number;
  /** Products per request, at most; null: the server's default (GRAPHQL_BATCH_SIZE). */
  batchSize: number | null;
  priority: Priority;
  strategy: Strategy;
}

export interface PushStore {
  id: number;
  name: string;
  shop_domain: string;
  is_active: boolean;
}

export interface PlanKind {
  kind: string;
  works: number;
  steps: number;
  bulk: boolean;
  predicted_cost: number;
}

export interface PushPlan {
  store_id: number;
  changes: number;
  predicted_cost: number;
  requests: number;
  bulk_operations: number;
  predicted_seconds: number;
  unplannable: number;
  strategy: Strategy;
  operations: Record<string, number>;
  by_kind: PlanKind[];
  workers: { min: number; max: number };
  batch_size: number;
  unplannable_changes: { staged_id: number | null; handle: string; reason: string }[];
}

export type PushState = "idle" | "running" | "stopping";

export interface Throttle {
  currently_available: number;
  maximum_available: number;
  restore_rate: number;
}

/** `metrics` of GET /api/sync/status: the monitor's latest figures of the push. */
export interface PushMetrics {
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
  queued: number;
  items_per_second: number;
  eta_seconds: number | null;
  workers: { active: number; min: number; max: number; busy?: number; peak?: number };
  utilization: number;
  error_rate: number;
  cost_spent: number;
  throttle: Throttle;
  job_state?: JobState;
  requests?: number;
  points?: number;
  seconds?: number;
}

export interface PushStatus {
  state: PushState;
  job_id: number | null;
  config: Partial<PushConfig>;
  metrics: PushMetrics;
}

export interface DebugStatus extends PushStatus {
  store_id: number | null;
  job_state: JobState | null;
  phase: string | null;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
  run: { elapsed_seconds?: number; updated_at?: string; requests?: number };
}

export interface WorkerBatch {
  kind: string;
  bulk: boolean;
  works: number;
  changes: number;
  predicted_cost: number;
  running_seconds: number;
}

export type WorkerState = "idle" | "busy" | "backoff" | "stopped";

export interface WorkerRow {
  id: number;
  state: WorkerState;
  current_batch: WorkerBatch | null;
  items_done: number;
  errors: number;
  steps_done: number;
  utilization: number;
  backoff_until: string | null;
  backoff_cause: string | null;
}

export interface DebugWorkers {
  state: PushState;
  job_id: number | null;
  workers: WorkerRow[];
}

export interface LatencyFigures {
  steps: number;
  works: number;
  p50: number;
  p90: number;
  p99: number;
  max?: number;
  points_per_work?: number | null;
}

export interface DebugMetrics {
  state: PushState;
  job_id: number | null;
  cost_per_item: number | null;
  latency: Record<string, LatencyFigures>;
  retries: Record<string, number>;
  retries_total: number;
  bucket_waits: { count?: number; seconds?: number };
}

export interface SyncHistoryItem {
  id: number;
  sync_job_id: number | null;
  store_id: number | null;
  direction: "push" | "pull";
  status: string;
  started_at: string;
  completed_at: string | null;
  total_items: number;
  processed_items: number;
  succeeded_items: number;
  failed_items: number;
  performance_metrics: Record<string, unknown>;
  error_message: string | null;
}

export interface SyncHistoryPage {
  items: SyncHistoryItem[];
  total: number;
  next_cursor: number | null;
}

export interface HistoryFilters {
  direction?: "push" | "pull";
  store_id?: number;
}

/** A job as GET /api/jobs/{id} shows it: the history's details come from its result. */
export interface JobDetail {
  id: number;
  kind: string;
  state: JobState;
  config: Record<string, unknown>;
  result: Record<string, unknown>;
  error: string | null;
}

export function listPushStores(signal: AbortSignal): Promise<PushStore[]> {
  return api<PushStore[]>("/api/shopify/stores", { signal });
}

function body(storeId: number, config: PushConfig) {
  const { batchSize, ...rest } = config;
  return { store_id: storeId, config: batchSize === null ? rest : { ...rest, batchSize } };
}

export function fetchPlan(
  storeId: number,
  config: PushConfig,
  signal: AbortSignal,
): Promise<PushPlan> {
  return api<PushPlan>("/api/sync/plan", { method: "POST", body: body(storeId, config), signal });
}

export function startPush(storeId: number, config: PushConfig): Promise<{ job_id: number }> {
  return api("/api/sync/start", { method: "POST", body: body(storeId, config) });
}

export function stopPush(jobId: number): Promise<{ job_id: number; state: string }> {
  return api("/api/sync/stop", { method: "POST", body: { job_id: jobId } });
}

export function fetchPushStatus(storeId: number | null, signal: AbortSignal) {
  return api<PushStatus>("/api/sync/status", {
    query: { store_id: storeId ?? undefined },
    signal,
  });
}

export function fetchDebugStatus(signal: AbortSignal): Promise<DebugStatus> {
  return api<DebugStatus>("/api/sync/debug/status", { signal });
}

export function fetchWorkers(jobId: number | null, signal: AbortSignal) {
  return api<DebugWorkers>("/api/sync/debug/workers", {
    query: { job_id: jobId ?? undefined },
    signal,
  });
}

export function fetchDebugMetrics(jobId: number | null, signal: AbortSignal) {
  return api<DebugMetrics>("/api/sync/debug/metrics", {
    query: { job_id: jobId ?? undefined },
    signal,
  });
}

export function fetchHistory(
  filters: HistoryFilters,
  cursor: number | null,
  signal: AbortSignal,
): Promise<SyncHistoryPage> {
  return api<SyncHistoryPage>("/api/sync/history", {
    query: { ...filters, limit: 25, cursor: cursor ?? undefined },
    signal,
  });
}

export function fetchJob(jobId: number, signal: AbortSignal): Promise<JobDetail> {
  return api<JobDetail>(`/api/jobs/${jobId}`, { signal });
}
