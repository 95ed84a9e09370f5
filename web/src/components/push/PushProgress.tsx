import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Progress,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { Link } from "react-router-dom";
import type { PushStatus } from "../../api/push";
import { count } from "../../format";
import { duration, percent, rate, stateBadge, whole } from "./format";

interface Props {
  status: PushStatus;
  canStop: boolean;
  onStop: () => void;
  stopping: boolean;
  stopError: string | null;
}

/** The store's running push (progress, rate, ETA, Stop), else how its last push ended. */
export function PushProgress({ status, canStop, onStop, stopping, stopError }: Props) {
  const { metrics } = status;
  if (status.job_id === null) return null;
  const running = status.state !== "idle";
  const jobState = running
    ? status.state === "stopping"
      ? "stopping"
      : (metrics.job_state ?? "running")
    : (metrics.job_state ?? "completed");
  const badge = stateBadge(jobState);
  const done = metrics.total > 0 ? (metrics.processed / metrics.total) * 100 : running ? 0 : 100;
  return (
    <Card withBorder padding="md" aria-label={running ? "Running push" : "Last push"}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Group gap="xs">
            <Title order={4}>{running ? "Running push" : "Last push"}</Title>
            <Text c="dimmed">#{status.job_id}</Text>
            <Badge color={badge.color} variant="light">
              {badge.label}
            </Badge>
          </Group>
          <Group gap="xs">
            <Anchor component={Link} to="/workers" size="sm">
              Watch the workers
            </Anchor>
            {running && canStop && (
              <Button
                color="red"
                variant="light"
                size="xs"
                onClick={onStop}
                loading={stopping}
                disabled={status.state === "stopping"}
              >
                Stop
              </Button>
            )}
          </Group>
        </Group>
        <Progress
          value={done}
          animated={running}
          color={metrics.failed > 0 ? "orange" : "blue"}
          aria-label="Push progress"
        />
        <Group gap="lg" wrap="wrap">
          <Text size="sm" data-testid="push-processed">
            {whole(metrics.processed)} of {count(metrics.total, "change")} done
          </Text>
          <Text size="sm">{whole(metrics.succeeded)} applied</Text>
          <Text size="sm" c={metrics.failed > 0 ? "red" : "dimmed"}>
            {whole(metrics.failed)} not applied
          </Text>
          {running ? (
            <>
              <Text size="sm">{rate(metrics.items_per_second)} changes/s</Text>
              <Text size="sm">
                {metrics.eta_seconds === null
                  ? "Time left: measuring…"
                  : `About ${duration(metrics.eta_seconds)} left`}
              </Text>
            </>
          ) : (
            <>
              {metrics.requests !== undefined && (
                <Text size="sm">{count(metrics.requests, "request")}</Text>
              )}
              {metrics.points !== undefined && (
                <Text size="sm">{whole(metrics.points)} points</Text>
              )}
              {metrics.seconds !== undefined && (
                <Text size="sm">took {duration(metrics.seconds)}</Text>
              )}
              {metrics.failed > 0 && (
                <Text size="sm">error rate {percent(metrics.error_rate)}</Text>
              )}
            </>
          )}
        </Group>
        {status.state === "stopping" && (
          <Text size="sm" c="dimmed">
            Stopping: the requests in flight finish; changes not sent stay approved for the next
            push.
          </Text>
        )}
        {!running && metrics.failed > 0 && (
          <Text size="sm">
            See the errors in{" "}
            <Anchor component={Link} to="/history">
              Sync history
            </Anchor>
            .
          </Text>
        )}
        {stopError && <Alert color="red">{stopError}</Alert>}
      </Stack>
    </Card>
  );
}
