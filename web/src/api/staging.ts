// POST /api/sync/staged: compare the catalog with what a store last showed and stage every
// difference for review. Imports and pulls stage on their own; this is for a hand edit that
// should go out before the next import.
import { api } from "./client";

export interface StageRequest {
  store_id: number;
  product_ids?: number[];
}

export interface StageResult {
  sync_job_id: number;
  staged: number;
  unchanged: number;
  kept: number;
  auto_approved: number;
}

export const stageChanges = (body: StageRequest) =>
  api<StageResult>("/api/sync/staged", { method: "POST", body });

/** "2 changes staged for review (1 approved by a rule); 40 products unchanged." */
export function stagedMessage(result: StageResult): string {
  const staged = `${result.staged.toLocaleString()} ${result.staged === 1 ? "change" : "changes"} staged for review`;
  const ruled = result.auto_approved ? ` (${result.auto_approved} approved by a rule)` : "";
  const kept = result.kept ? `, ${result.kept.toLocaleString()} already waiting` : "";
  const same = result.unchanged ? `; ${result.unchanged.toLocaleString()} unchanged` : "";
  return `${staged}${ruled}${kept}${same}.`;
}
