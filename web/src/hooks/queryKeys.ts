// Every query key starts with one of these prefixes, so live events invalidate exactly what they
// change. A page's hooks extend its prefix (`[...queryKeys.staged, filters]`).
import type { JobsQuery } from "../api/types";

export const queryKeys = {
  syncStatus: ["enhanced-sync", "status"] as const,
  jobs: ["jobs"] as const,
  jobList: (query: JobsQuery) => ["jobs", "list", query] as const,
  syncMetrics: (jobId: number) => ["sync-metrics", jobId] as const,
  // push status, workers and debug metrics of the running push
  pushStatus: ["sync", "push"] as const,
  staged: ["staged"] as const,
  imports: ["imports"] as const,
  products: ["products"] as const,
  batches: ["batches"] as const,
  syncHistory: ["sync-history"] as const,
  stores: ["stores"] as const,
  users: ["users"] as const,
};
