import { Alert, Group, Loader, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import { errorMessage } from "../../api/client";
import type { DebugMetrics, SyncHistoryItem } from "../../api/push";
import { count } from "../../format";
import { useSyncHistoryJob } from "../../hooks/useSyncHistory";
import { duration, percent, rate, whole } from "../push/format";
import { LatencyTable } from "../workers/LatencyTable";

type Figures = Record<string, unknown>;

const num = (value: unknown): number | null => (typeof value === "number" ? value : null);

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" fw={600}>
        {value}
      </Text>
    </Stack>
  );
}

/** The run's figures as the monitor left them (pushes), or its scope (pulls). */
function metricFigures(metrics: Figures): { label: string; value: string }[] {
  const figures: { label: string; value: string }[] = [];
  const add = (label: string, value: string | null) => {
    if (value !== null) figures.push({ label, value });
  };
  const requests = num(metrics.requests);
  const points = num(metrics.points);
  const seconds = num(metrics.seconds);
  const perSecond = num(metrics.items_per_second);
  const perItem = num(metrics.cost_per_item);
  const utilization = num(metrics.utilization);
  const retries = num(metrics.retries_total);
  const workers = (metrics.workers ?? {}) as Figures;
  const waits = (metrics.bucket_waits ?? {}) as Figures;
  add("Requests", requests === null ? null : whole(requests));
  add("Points", points === null ? null : whole(points));
  add("Took", seconds === null ? null : duration(seconds));
  add("Changes/s", perSecond === null ? null : rate(perSecond));
  add("Points per change", perItem === null ? null : perItem.toFixed(1));
  add("Workers busy", utilization === null ? null : percent(utilization, 0));
  add("Most workers", num(workers.peak) === null ? null : whole(num(workers.peak)));
  add("Retries", retries === null ? null : whole(retries));
  add("Bucket waits", num(waits.count) === null ? null : whole(num(waits.count)));
  if (typeof metrics.scope === "string") add("Scope", metrics.scope);
  return figures;
}

// Counts of a job's result shown as they are; the rest (errors, figures) has its own place.
const RESULT_LABELS: Record<string, string> = {
  applied: "Applied",
  failed: "Failed",
  conflicts: "Conflicts",
  not_run: "Not sent",
  compared: "Compared",
  unchanged: "Unchanged",
  pulled: "Pulled",
  creates: "New in Shopify",
  deletes: "Deleted in Shopify",
  adopted: "Adopted",
};

interface ChangeError {
  handle: string;
  error: string;
}

function changeErrors(result: Figures): ChangeError[] {
  const errors = Array.isArray(result.errors) ? result.errors : [];
  return errors.flatMap((entry: unknown) => {
    const item = (entry ?? {}) as Figures;
    return typeof item.error === "string"
      ? [{ handle: typeof item.handle === "string" ? item.handle : "—", error: item.error }]
      : [];
  });
}

/** A history row opened: its figures, the job's counts, and every error in words. */
export function HistoryDetails({ row }: { row: SyncHistoryItem }) {
  const job = useSyncHistoryJob(row.sync_job_id, true);
  const metrics = row.performance_metrics;
  const figures = metricFigures(metrics);
  const result = job.data?.result ?? {};
  const counts = Object.entries(RESULT_LABELS).flatMap(([key, label]) => {
    const value = num(result[key]);
    return value === null ? [] : [{ label, value: whole(value) }];
  });
  const errors = changeErrors(result);
  const latency = metrics.latency as DebugMetrics["latency"] | undefined;
  // In words: how many changes did not make it, and the job's own reason when it says more
  // than that count (a stop, a failure); the history's short message only when nothing else.
  const problems: string[] = [];
  if (row.failed_items > 0)
    problems.push(`${count(row.failed_items, "change")} of ${whole(row.total_items)} not applied.`);
  const jobError = job.data?.error;
  if (jobError && (job.data?.state !== "completed_with_errors" || row.failed_items === 0))
    problems.push(jobError);
  if (problems.length === 0 && row.error_message) problems.push(row.error_message);
  return (
    <Stack gap="sm" p="xs" data-testid="history-details">
      {figures.length > 0 && (
        <SimpleGrid cols={{ base: 2, sm: 4, lg: 6 }}>
          {figures.map((f) => (
            <Figure key={f.label} {...f} />
          ))}
        </SimpleGrid>
      )}
      {job.isPending && row.sync_job_id !== null && (
        <Group gap="xs">
          <Loader size="xs" />
          <Text size="sm">Loading the job's details…</Text>
        </Group>
      )}
      {job.error && <Alert color="red">{errorMessage(job.error)}</Alert>}
      {counts.length > 0 && (
        <SimpleGrid cols={{ base: 2, sm: 4, lg: 6 }}>
          {counts.map((f) => (
            <Figure key={f.label} {...f} />
          ))}
        </SimpleGrid>
      )}
      {latency && Object.keys(latency).length > 0 && (
        <LatencyTable
          details={{
            state: "idle",
            job_id: row.sync_job_id,
            cost_per_item: num(metrics.cost_per_item),
            latency,
            retries: (metrics.retries ?? {}) as Record<string, number>,
            retries_total: num(metrics.retries_total) ?? 0,
            bucket_waits: (metrics.bucket_waits ?? {}) as DebugMetrics["bucket_waits"],
          }}
        />
      )}
      {problems.length > 0 && (
        <Alert color={row.failed_items > 0 ? "orange" : "red"} title="What went wrong">
          {problems.join(" ")}
        </Alert>
      )}
      {errors.length > 0 && (
        <Table.ScrollContainer minWidth={480}>
          <Table fz="sm" striped aria-label="Errors by product">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Product</Table.Th>
                <Table.Th>What went wrong</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {errors.map((e, index) => (
                <Table.Tr key={`${e.handle}-${index}`}>
                  <Table.Td>{e.handle}</Table.Td>
                  <Table.Td>{e.error}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {problems.length === 0 && errors.length === 0 && !job.isPending && (
        <Text size="sm" c="dimmed">
          No errors.
        </Text>
      )}
    </Stack>
  );
}
