import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Job, JobPage, JobsQuery } from "../api/types";
import { queryKeys } from "./queryKeys";

/** Jobs, newest first (GET /api/jobs). Live events keep the cached list current. */
export function useJobs(query: JobsQuery = {}) {
  return useQuery({
    queryKey: queryKeys.jobList(query),
    queryFn: ({ signal }) => api<JobPage>("/api/jobs", { query: { ...query }, signal }),
  });
}

export function isActive(job: Job): boolean {
  return job.state === "queued" || job.state === "running";
}

/** Queued and running jobs, from the latest 50. */
export function useActiveJobs(): { jobs: Job[]; isPending: boolean; error: Error | null } {
  const jobs = useJobs({ limit: 50 });
  return {
    jobs: (jobs.data?.items ?? []).filter(isActive),
    isPending: jobs.isPending,
    error: jobs.error,
  };
}
