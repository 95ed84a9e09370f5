// Every query key in one place, so live events invalidate exactly what they change.
import type { JobsQuery } from "../api/types";

export const queryKeys = {
  syncStatus: ["enhanced-sync", "status"] as const,
  jobs: ["jobs"] as const,
  jobList: (query: JobsQuery) => ["jobs", "list", query] as const,
  syncMetrics: (jobId: number) => ["sync-metrics", jobId] as const,
};
