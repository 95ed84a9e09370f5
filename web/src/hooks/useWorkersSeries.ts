// The rolling time series of a push, kept in the browser: the API gives the figures now, the
// charts need them over time. Samples come from polling and from `sync.metrics` events; both
// carry the run's elapsed seconds, which orders them and drops repeats. Kept per job for the
// session, so leaving the page and coming back keeps what was seen.

import { useSyncExternalStore } from "react";

export interface Sample {
  /** Seconds since the push started. */
  t: number;
  rate: number;
  queued: number;
  processed: number;
  failed: number;
  /** Failed share of processed changes, 0..1. */
  errorRate: number;
  available: number;
  busy: number;
  /** Works done so far, per worker id. */
  done: Record<string, number>;
}

const MAX_SAMPLES = 900; // a quarter of an hour at one a second
const EMPTY: Sample[] = [];
const series = new Map<number, Sample[]>();
const listeners = new Set<() => void>();

const JOBS_KEPT = 5;
// A poll may answer a snapshot a moment older than the last event; a clock far behind is a
// new attempt of the job (picked up again after a crash), whose run starts from zero.
const RESTART_SECONDS = 5;

export function recordSample(jobId: number, sample: Sample): void {
  let samples = series.get(jobId) ?? EMPTY;
  const last = samples[samples.length - 1];
  if (last !== undefined && sample.t <= last.t) {
    if (sample.t + RESTART_SECONDS >= last.t) return;
    samples = EMPTY;
  }
  series.delete(jobId); // re-inserted last: the map's order is the order of use
  series.set(jobId, [...samples, sample].slice(-MAX_SAMPLES));
  for (const old of [...series.keys()].slice(0, -JOBS_KEPT)) series.delete(old);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The samples seen of the job so far, oldest first. */
export function useWorkersSeries(jobId: number | null): Sample[] {
  return useSyncExternalStore(subscribe, () =>
    jobId === null ? EMPTY : (series.get(jobId) ?? EMPTY),
  );
}

interface Figures {
  items_per_second?: unknown;
  queued?: unknown;
  processed?: unknown;
  failed?: unknown;
  error_rate?: unknown;
  throttle?: unknown;
  workers?: unknown;
}

const num = (value: unknown): number => (typeof value === "number" ? value : 0);

/** A sample from a metrics snapshot (`sync.metrics`, or the status' metrics) at `t`, with the
 * pool's rows (the snapshot's `pool`, or GET /api/sync/debug/workers). */
export function sampleOf(
  t: number,
  figures: Figures,
  pool: { id: number; items_done: number }[],
): Sample {
  const throttle = (figures.throttle ?? {}) as { currently_available?: unknown };
  const workers = (figures.workers ?? {}) as { busy?: unknown };
  return {
    t,
    rate: num(figures.items_per_second),
    queued: num(figures.queued),
    processed: num(figures.processed),
    failed: num(figures.failed),
    errorRate: num(figures.error_rate),
    available: num(throttle.currently_available),
    busy: num(workers.busy),
    done: Object.fromEntries(pool.map((worker) => [String(worker.id), worker.items_done])),
  };
}
