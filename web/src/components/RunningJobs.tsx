import { Card, Group, Progress, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { Job, SyncMetrics } from "../api/types";
import { queryKeys } from "../hooks/queryKeys";

const KIND_LABELS: Record<string, string> = {
  "sync.pull": "Pull from Shopify",
  "sync.push": "Push to Shopify",
  "import.etilize": "Etilize import",
  "import.xorosoft": "Xorosoft import",
};

export function jobLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind.replace(/[._]/g, " ");
}

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
  const known = job.total > 0;
  const percent = known ? Math.min(100, (job.processed / job.total) * 100) : 0;
  const rate = metrics?.items_per_second;
  const running = job.state === "running";
  return (
    <Stack gap={4}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text size="sm" fw={500}>
          #{job.id} {jobLabel(job.kind)}
          {job.phase ? ` — ${job.phase}` : ""}
        </Text>
        <Text size="sm" c="dimmed">
          {job.state === "queued"
            ? "queued"
            : known
              ? `${job.processed.toLocaleString()} / ${job.total.toLocaleString()}`
              : `${job.processed.toLocaleString()} so far`}
          {job.failed > 0 ? `, ${job.failed} failed` : ""}
          {typeof rate === "number" ? `, ${rate.toFixed(1)}/s` : ""}
        </Text>
      </Group>
      <Progress
        aria-label={`${jobLabel(job.kind)} #${job.id} progress`}
        value={known || !running ? percent : 100}
        striped={running && !known}
        animated={running}
      />
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
