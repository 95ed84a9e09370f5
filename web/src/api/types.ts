// The shapes of the endpoints the dashboard uses. Every field read here is listed in
// contract.json, which tests/integration/test_dashboard.py checks against the app's /openapi.json.

export type Role = "viewer" | "editor" | "approver" | "admin";

export interface User {
  id: number;
  email: string;
  role: Role;
}

export interface LoginRequest {
  email: string;
  password: string;
}

export interface LoginResponse {
  access_token: string;
  expires_in: number;
  user: User;
}

export const STAGED_STATUSES = [
  "pending",
  "conflict",
  "approved",
  "applied",
  "rejected",
  "failed",
] as const;
export type StagedStatus = (typeof STAGED_STATUSES)[number];
export type StagedCounts = Partial<Record<StagedStatus, number>>;

export interface StoreSyncStatus {
  store_id: number;
  name: string;
  last_pull_at: string | null;
  last_push_at: string | null;
  staged: StagedCounts;
}

export interface SyncStatus {
  stores: StoreSyncStatus[];
  staged: StagedCounts;
}

export type JobState =
  "queued" | "running" | "completed" | "completed_with_errors" | "failed" | "cancelled";

export interface Job {
  id: number;
  kind: string;
  state: JobState;
  store_id: number | null;
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
  phase: string;
  created_at: string | null;
  started_at: string | null;
}

export interface JobPage {
  items: Job[];
  total: number;
}

export interface JobsQuery {
  state?: JobState;
  limit?: number;
}

// WS /ws events (src/cowans/api/routers/events.py): a snapshot, `snapshot.done`, then deltas.
export type LiveEvent =
  | { type: "job.state"; job: Job }
  | {
      type: "job.progress";
      job_id: number;
      kind: string;
      total?: number;
      processed?: number;
      succeeded?: number;
      failed?: number;
    }
  | { type: "sync.metrics"; job_id: number; store_id: number | null; metrics: SyncMetrics }
  | { type: "staged.changed"; store_id: number; counts: StagedCounts }
  | { type: "worker.state"; worker: Record<string, unknown> }
  | { type: "import.progress"; import: Record<string, unknown> }
  | { type: "snapshot.done" }
  | { type: "error"; error: { code: string; message: string } };

export interface SyncMetrics {
  items_per_second?: number;
  eta_seconds?: number | null;
  [key: string]: unknown;
}
