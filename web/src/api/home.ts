// The home page's actions (src/cowans/api/routers/enhanced_sync.py, jobs.py): pull from Shopify,
// push the approved changes, and the recent jobs of one kind with their outcome.

import { api } from "./client";
import type { Job } from "./types";

export const PULL_KIND = "sync.pull";
export const PUSH_KIND = "sync.push";

/** A job with what it ended with: `result` is the job's own summary (a pull's counts, ...). */
export interface JobOutcome extends Job {
  result: Record<string, unknown>;
  error: string | null;
  finished_at: string | null;
}

export interface JobOutcomePage {
  items: JobOutcome[];
  total: number;
}

export interface Started {
  job_id: number;
}

export type PullScope = { kind: "since_last" } | { kind: "since"; date: string } | { kind: "full" };

export interface PullRequest {
  store_id: number;
  full?: boolean;
  modified_since?: string;
}

export function pullRequest(storeId: number, scope: PullScope): PullRequest {
  if (scope.kind === "full") return { store_id: storeId, full: true };
  // A calendar day, from its first moment in the person's own time zone.
  if (scope.kind === "since")
    return { store_id: storeId, modified_since: new Date(`${scope.date}T00:00:00`).toISOString() };
  return { store_id: storeId };
}

export function startPull(body: PullRequest) {
  return api<Started>("/api/enhanced-sync/shopify-down", { method: "POST", body });
}

/** Every approved change of the store, with the push engine's default settings. */
export function startPush(storeId: number) {
  return api<Started>("/api/enhanced-sync/shopify-up", {
    method: "POST",
    body: { store_id: storeId },
  });
}

export function listJobsOfKind(kind: string, limit: number, signal?: AbortSignal) {
  return api<JobOutcomePage>("/api/jobs", {
    query: { kind, limit },
    ...(signal && { signal }),
  });
}
