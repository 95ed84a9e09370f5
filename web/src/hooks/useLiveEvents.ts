// WS /ws: the server sends the current state, `snapshot.done`, then every event as it happens.
// Events patch or invalidate the TanStack queries they change; a dropped connection comes back
// with exponential backoff (and a fresh snapshot, so nothing is missed).

import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { Job, JobPage, LiveEvent } from "../api/types";
import { endSession } from "../auth/session";
import { queryKeys } from "./queryKeys";

export type LiveStatus = "connecting" | "live" | "offline";

const UNAUTHORIZED = 4401; // the server's close code for a bad or expired token
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

export function liveUrl(token: string, location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`;
}

// What a job's change of state can move: its list, the sync overview, and what its kind writes.
const JOB_FINISH_TOUCHES = [
  queryKeys.jobs,
  queryKeys.syncStatus,
  queryKeys.pushStatus,
  queryKeys.staged,
  queryKeys.imports,
  queryKeys.products,
  queryKeys.batches,
  queryKeys.syncHistory,
];

function patchJob(client: QueryClient, jobId: number, patch: (job: Job) => Job): void {
  client.setQueriesData<JobPage>({ queryKey: queryKeys.jobs }, (page) =>
    page
      ? { ...page, items: page.items.map((job) => (job.id === jobId ? patch(job) : job)) }
      : page,
  );
}

/** What one event changes in the cache. During the snapshot, only cheap patches. */
export function applyEvent(client: QueryClient, event: LiveEvent, inSnapshot: boolean): void {
  switch (event.type) {
    case "job.progress": {
      const { type: _type, job_id, kind: _kind, ...counters } = event;
      patchJob(client, job_id, (job) => ({ ...job, ...counters }));
      return;
    }
    case "sync.metrics":
      client.setQueryData(queryKeys.syncMetrics(event.job_id), event.metrics);
      return;
    case "job.state":
      patchJob(client, event.job.id, (job) => ({ ...job, ...event.job }));
      if (!inSnapshot) {
        // A new job is not in any cached list yet; a finished job moves what it worked on.
        for (const key of JOB_FINISH_TOUCHES) void client.invalidateQueries({ queryKey: key });
      }
      return;
    case "staged.changed":
      if (!inSnapshot) {
        void client.invalidateQueries({ queryKey: queryKeys.syncStatus });
        void client.invalidateQueries({ queryKey: queryKeys.staged });
        void client.invalidateQueries({ queryKey: queryKeys.products }); // their sync state
      }
      return;
    case "import.progress":
      if (!inSnapshot) void client.invalidateQueries({ queryKey: queryKeys.imports });
      return;
    case "worker.state":
      if (!inSnapshot) void client.invalidateQueries({ queryKey: queryKeys.pushStatus });
      return;
    case "snapshot.done":
      for (const key of JOB_FINISH_TOUCHES) void client.invalidateQueries({ queryKey: key });
      return;
    case "error":
      return;
  }
}

export function useLiveEvents(token: string | null): LiveStatus {
  const client = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    if (!token) return;
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let delay = FIRST_DELAY_MS;
    let stopped = false;

    const connect = () => {
      setStatus("connecting");
      let inSnapshot = true;
      socket = new WebSocket(liveUrl(token));
      socket.onmessage = (message: MessageEvent<string>) => {
        const event = JSON.parse(message.data) as LiveEvent;
        applyEvent(client, event, inSnapshot);
        if (event.type === "snapshot.done") {
          inSnapshot = false;
          delay = FIRST_DELAY_MS;
          setStatus("live");
        }
      };
      socket.onclose = (close) => {
        if (stopped) return;
        if (close.code === UNAUTHORIZED) {
          endSession("expired");
          return;
        }
        setStatus("offline");
        const jitter = Math.random() * 0.3 * delay;
        timer = window.setTimeout(connect, delay + jitter);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      };
    };
    connect();

    return () => {
      stopped = true;
      window.clearTimeout(timer);
      socket?.close();
    };
  }, [client, token]);

  return status;
}
