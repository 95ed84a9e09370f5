import { Alert, Grid, Group, Loader, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";
import { errorMessage } from "../api/client";
import { LastPushSummary } from "../components/workers/LastPushSummary";
import { LatencyTable } from "../components/workers/LatencyTable";
import { PushFigures } from "../components/workers/PushFigures";
import { ThrottleGauge } from "../components/workers/ThrottleGauge";
import { WorkerCard } from "../components/workers/WorkerCard";
import { WorkerCharts } from "../components/workers/WorkerCharts";
import { useWorkersLive } from "../hooks/useWorkersLive";

/** Seconds tick for the backoff countdowns on the cards. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, [active]);
  return now;
}

/** The push's worker pool live: a card per worker, figures, the Shopify bucket and charts. */
export function SwarmExecutionDashboard() {
  const live = useWorkersLive();
  const now = useNow(live.running);
  const { status, metrics } = live;

  if (status.isPending) return <Loader aria-label="Loading the workers" />;
  if (status.error) return <Alert color="red">{errorMessage(status.error)}</Alert>;
  const data = status.data;

  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>Workers</Title>
        {live.running && data.job_id !== null && (
          <Text c="dimmed" data-testid="workers-job">
            Push #{data.job_id} {data.state === "stopping" ? "stopping" : "running"}
            {data.phase ? ` — ${data.phase}` : ""}
          </Text>
        )}
      </Group>
      {live.error && live.error !== status.error && (
        <Alert color="red">{errorMessage(live.error)}</Alert>
      )}
      {!live.running && (
        <Alert color="gray" title="No push is running">
          {data.job_id === null
            ? "No push has run yet. Start one on the Push to Shopify page; its workers appear here live."
            : "Workers appear here live as soon as a push starts."}
        </Alert>
      )}
      {!live.running && data.job_id !== null && <LastPushSummary status={data} />}
      {live.running && metrics && (
        <Grid>
          <Grid.Col span={{ base: 12, lg: 9 }}>
            <PushFigures metrics={metrics} retries={live.details?.retries_total} />
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 3 }}>
            <ThrottleGauge throttle={metrics.throttle} />
          </Grid.Col>
        </Grid>
      )}
      {live.running && live.pool.length === 0 && (
        <Text c="dimmed">
          {data.phase === "checking"
            ? "Checking the changes against the store before sending…"
            : "Starting the workers…"}
        </Text>
      )}
      {live.pool.length > 0 && (
        <Stack gap="xs">
          <Title order={4}>{live.running ? "Workers" : "Workers of the last push"}</Title>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3, xl: 4 }} aria-label="Workers">
            {live.pool.map((worker) => (
              <WorkerCard key={worker.id} worker={worker} now={now} />
            ))}
          </SimpleGrid>
        </Stack>
      )}
      {(live.running || live.series.length > 1) && (
        <WorkerCharts samples={live.series} pool={live.pool} />
      )}
      {live.details && data.job_id !== null && <LatencyTable details={live.details} />}
    </Stack>
  );
}
