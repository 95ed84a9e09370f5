import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { listJobsOfKind, startPull, startPush, type PullRequest } from "../api/home";
import { isActive } from "./useJobs";
import { queryKeys } from "./queryKeys";

// Live events patch and invalidate these rows; a running job is also polled, for a pull's
// phases that travel without an event.
const WHILE_RUNNING_MS = 3_000;

/** The latest jobs of one kind (`sync.pull`, `sync.push`), with their results. */
export function useRecentJobs(kind: string, limit = 5) {
  return useQuery({
    queryKey: [...queryKeys.jobs, "kind", kind, limit] as const,
    queryFn: ({ signal }) => listJobsOfKind(kind, limit, signal),
    refetchInterval: (query) =>
      (query.state.data?.items ?? []).some(isActive) ? WHILE_RUNNING_MS : false,
  });
}

function useStartJob<Input>(start: (input: Input) => Promise<{ job_id: number }>, what: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: start,
    onSuccess: ({ job_id }) => {
      notifications.show({ color: "blue", title: `${what} started`, message: `Job #${job_id}.` });
    },
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.jobs });
      void client.invalidateQueries({ queryKey: queryKeys.syncStatus });
    },
  });
}

export function useStartPull() {
  return useStartJob((body: PullRequest) => startPull(body), "Pull from Shopify");
}

export function useStartPush() {
  return useStartJob((storeId: number) => startPush(storeId), "Push to Shopify");
}
