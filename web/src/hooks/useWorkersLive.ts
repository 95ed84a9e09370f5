import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import {
  fetchDebugMetrics,
  fetchDebugStatus,
  fetchWorkers,
  type PushMetrics,
  type WorkerRow,
} from "../api/push";
import type { SyncMetrics } from "../api/types";
import { queryKeys } from "./queryKeys";
import { isRunning } from "./usePush";
import { recordSample, sampleOf, useWorkersSeries } from "./useWorkersSeries";

const POLL_MS = 1_000;
const DETAILS_POLL_MS = 2_000;

const workerKeys = {
  status: [...queryKeys.pushStatus, "debug-status"] as const,
  workers: (jobId: number | null) => [...queryKeys.pushStatus, "workers", jobId] as const,
  metrics: (jobId: number | null) => [...queryKeys.pushStatus, "metrics", jobId] as const,
};

/** What `sync.metrics` events leave in the cache for a job (the monitor's whole snapshot). */
type LiveSnapshot = SyncMetrics & { elapsed_seconds?: number; pool?: WorkerRow[] };

function useLiveSnapshot(jobId: number | null): LiveSnapshot | undefined {
  return useQuery<LiveSnapshot>({
    queryKey: queryKeys.syncMetrics(jobId ?? 0),
    queryFn: () => Promise.reject(new Error("sync metrics only come from live events")),
    enabled: false,
  }).data;
}

/** The running (else the latest) push of any store, its worker pool and its details: polled
 * every second while it runs, refreshed by live events when one starts or ends. Every answer
 * and every `sync.metrics` event adds a sample to the push's time series. */
export function useWorkersLive() {
  const status = useQuery({
    queryKey: workerKeys.status,
    queryFn: ({ signal }) => fetchDebugStatus(signal),
    refetchInterval: (query) => (isRunning(query.state.data) ? POLL_MS : false),
  });
  const jobId = status.data?.job_id ?? null;
  const running = isRunning(status.data);
  const workers = useQuery({
    queryKey: workerKeys.workers(jobId),
    queryFn: ({ signal }) => fetchWorkers(jobId, signal),
    enabled: jobId !== null,
    refetchInterval: running ? POLL_MS : false,
  });
  const details = useQuery({
    queryKey: workerKeys.metrics(jobId),
    queryFn: ({ signal }) => fetchDebugMetrics(jobId, signal),
    enabled: jobId !== null,
    refetchInterval: running ? DETAILS_POLL_MS : false,
  });
  const live = useLiveSnapshot(jobId);

  const elapsed = status.data?.run.elapsed_seconds;
  useEffect(() => {
    if (jobId === null || elapsed === undefined || !workers.data) return;
    if (workers.data.job_id !== jobId || !status.data) return;
    recordSample(jobId, sampleOf(elapsed, status.data.metrics, workers.data.workers));
  }, [jobId, elapsed, status.data, workers.data]);
  useEffect(() => {
    if (jobId === null || typeof live?.elapsed_seconds !== "number") return;
    recordSample(jobId, sampleOf(live.elapsed_seconds, live, live.pool ?? []));
  }, [jobId, live]);

  // The newest figures: an event may be fresher than the last poll.
  const liveIsNewer =
    typeof live?.elapsed_seconds === "number" && live.elapsed_seconds > (elapsed ?? -1);
  const metrics: PushMetrics | undefined = status.data
    ? liveIsNewer
      ? { ...status.data.metrics, ...(live as Partial<PushMetrics>) }
      : status.data.metrics
    : undefined;
  const pool: WorkerRow[] = liveIsNewer && live?.pool ? live.pool : (workers.data?.workers ?? []);

  return {
    status,
    running,
    jobId,
    metrics,
    pool,
    details: details.data,
    series: useWorkersSeries(jobId),
    error: status.error ?? workers.error ?? null,
  };
}
