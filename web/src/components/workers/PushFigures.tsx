import { Card, Progress, SimpleGrid, Stack, Text } from "@mantine/core";
import type { PushMetrics } from "../../api/push";
import { count } from "../../format";
import { duration, percent, rate, whole } from "../push/format";

function Stat({ label, value, hint }: { label: string; value: string; hint?: string | undefined }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="lg" fw={700} aria-label={label}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

/** The running push in figures: progress, throughput, ETA, queue, errors, workers, points. */
export function PushFigures({
  metrics,
  retries,
}: {
  metrics: PushMetrics;
  retries?: number | undefined;
}) {
  const done = metrics.total > 0 ? (metrics.processed / metrics.total) * 100 : 0;
  const { workers } = metrics;
  return (
    <Stack gap="sm">
      <Stack gap={4}>
        <Text size="sm" data-testid="workers-progress">
          {whole(metrics.processed)} of {count(metrics.total, "change")} finished (
          {whole(metrics.succeeded)} applied, {whole(metrics.failed)} not)
        </Text>
        <Progress
          value={done}
          animated
          aria-label="Push progress"
          color={metrics.failed ? "orange" : "blue"}
        />
      </Stack>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
        <Stat
          label="Throughput"
          value={`${rate(metrics.items_per_second)}/s`}
          hint="changes per second"
        />
        <Stat
          label="Time left"
          value={metrics.eta_seconds === null ? "measuring…" : duration(metrics.eta_seconds)}
        />
        <Stat label="Queue" value={whole(metrics.queued)} hint="changes waiting" />
        <Stat
          label="Error rate"
          value={percent(metrics.error_rate)}
          hint={retries ? `${count(retries, "retry", "retries")}` : undefined}
        />
        <Stat
          label="Workers"
          value={`${whole(workers.busy ?? workers.active)} / ${whole(workers.active)}`}
          hint={`busy / in pool (${workers.min}–${workers.max})`}
        />
        <Stat
          label="Points spent"
          value={whole(metrics.cost_spent)}
          hint={`busy ${percent(metrics.utilization, 0)}`}
        />
      </SimpleGrid>
    </Stack>
  );
}
