import { Card, Group, Progress, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { Job, SyncMetrics } from "../api/types";
import { queryKeys } from "../hooks/queryKeys";

/** The latest `sync.metrics` of a job: live events write them, nothing fetches them. */
function useSyncMetrics(jobId: number): SyncMetrics | undefined {
  return useQuery<SyncMetrics>({
    queryKey: queryKeys.syncMetrics(jobId),
    queryFn: () => Promise.reject(new Error("sync metrics only come from live events")),
    enabled: false,
  }).data;
}

function JobRow({ job }: { job: Job }) {
  const metrics = useSyncMetrics(job.id);
  const percent = job.total > 0 ? Math.min(100, (job.processed / job.total) * 100) : 0;
  const rate = metrics?.items_per_second;
  return (
    <Stack gap={4}>
      <Group justify="space-between">
        <Text size="sm" fw={500}>
          #{job.id} {job.kind}
          {job.phase ? ` — ${job.phase}` : ""}
        </Text>
        <Text size="sm" c="dimmed">
          {job.state === "queued"
            ? "queued"
            : `${job.processed.toLocaleString()} / ${job.total.toLocaleString()}`}
          {job.failed > 0 ? `, ${job.failed} failed` : ""}
          {typeof rate === "number" ? `, ${rate.toFixed(1)}/s` : ""}
        </Text>
      </Group>
      <Progress value={percent} animated={job.state === "running"} />
    </Stack>
  );
}

export function RunningJobs({ jobs }: { jobs: Job[] }) {
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Text fw={600}>Running jobs</Text>
        {jobs.length === 0 ? (
          <Text size="sm" c="dimmed">
            Nothing running.
          </Text>
        ) : (
          jobs.map((job) => <JobRow key={job.id} job={job} />)
        )}
      </Stack>
    </Card>
  );
}
