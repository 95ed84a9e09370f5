import { Anchor, Badge, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import type { DebugStatus } from "../../api/push";
import { ago } from "../../format";
import { duration, percent, stateBadge, whole } from "../push/format";

function Line({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={600}>{value}</Text>
    </Stack>
  );
}

/** How the latest push ended, for when none is running. */
export function LastPushSummary({ status }: { status: DebugStatus }) {
  const { metrics } = status;
  const badge = stateBadge(status.job_state);
  return (
    <Card withBorder padding="md" aria-label="Last push">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Group gap="xs">
            <Title order={4}>Last push</Title>
            <Text c="dimmed">#{status.job_id}</Text>
            <Badge color={badge.color} variant="light">
              {badge.label}
            </Badge>
          </Group>
          <Text size="sm" c="dimmed" title={status.finished_at ?? undefined}>
            {status.finished_at ? `Finished ${ago(status.finished_at)}` : ""}
          </Text>
        </Group>
        <SimpleGrid cols={{ base: 2, sm: 4, lg: 7 }}>
          <Line label="Changes" value={whole(metrics.total)} />
          <Line label="Applied" value={whole(metrics.succeeded)} />
          <Line label="Not applied" value={whole(metrics.failed)} />
          <Line label="Error rate" value={percent(metrics.error_rate)} />
          <Line label="Requests" value={whole(metrics.requests ?? status.run.requests)} />
          <Line label="Points" value={whole(metrics.points ?? metrics.cost_spent)} />
          <Line label="Took" value={duration(metrics.seconds ?? status.run.elapsed_seconds)} />
        </SimpleGrid>
        {status.error && (
          <Text size="sm" c="red">
            {status.error}
          </Text>
        )}
        <Anchor component={Link} to="/history" size="sm">
          Every past push and pull, with their errors, is in Sync history
        </Anchor>
      </Stack>
    </Card>
  );
}
