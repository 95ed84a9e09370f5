import { Badge, Card, Group, Progress, Stack, Text } from "@mantine/core";
import type { WorkerRow, WorkerState } from "../../api/push";
import { duration, kindShort, percent, whole } from "../push/format";

const STATE: Record<WorkerState, { label: string; color: string }> = {
  busy: { label: "Busy", color: "blue" },
  backoff: { label: "Backing off", color: "orange" },
  idle: { label: "Idle", color: "gray" },
  stopped: { label: "Left the pool", color: "dark" },
};

function backoffLeft(until: string | null, now: number): number | null {
  if (until === null) return null;
  return Math.max(0, (new Date(until).getTime() - now) / 1000);
}

/** One worker of the pool: its state, the batch it sends, what it did, and its backoff. */
export function WorkerCard({ worker, now }: { worker: WorkerRow; now: number }) {
  const state = STATE[worker.state] ?? { label: worker.state, color: "gray" };
  const batch = worker.current_batch;
  const waiting = backoffLeft(worker.backoff_until, now);
  return (
    <Card withBorder padding="sm" aria-label={`Worker ${worker.id}`} data-testid="worker-card">
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap">
          <Text fw={600}>Worker {worker.id}</Text>
          <Badge color={state.color} variant="light">
            {state.label}
          </Badge>
        </Group>
        <Text size="sm" c={batch ? "bright" : "dimmed"} lineClamp={1}>
          {batch
            ? `${kindShort(batch.kind)}${batch.bulk ? " (bulk)" : ""}: ${whole(batch.changes)} product${batch.changes === 1 ? "" : "s"}, ${duration(batch.running_seconds)}`
            : "No batch"}
        </Text>
        <Group gap="md">
          <Text size="sm">
            <Text span fw={600} data-testid="worker-items">
              {whole(worker.items_done)}
            </Text>{" "}
            done
          </Text>
          <Text size="sm" c={worker.errors > 0 ? "red" : "dimmed"}>
            {whole(worker.errors)} errors
          </Text>
          <Text size="sm" c="dimmed">
            {whole(worker.steps_done)} requests
          </Text>
        </Group>
        {waiting !== null && (
          <Text size="sm" c="orange">
            Waiting {duration(waiting)}
            {worker.backoff_cause ? ` (${worker.backoff_cause.replace(/_/g, " ")})` : ""}
          </Text>
        )}
        <Progress
          value={worker.utilization * 100}
          size="sm"
          aria-label={`Worker ${worker.id} busy share`}
          title={`Busy ${percent(worker.utilization, 0)} of the time`}
        />
      </Stack>
    </Card>
  );
}
