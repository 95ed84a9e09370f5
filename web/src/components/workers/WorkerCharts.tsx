import { AreaChart, BarChart, LineChart } from "@mantine/charts";
import { Card, SimpleGrid, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import type { WorkerRow } from "../../api/push";
import type { Sample } from "../../hooks/useWorkersSeries";

const PALETTE = [
  "blue.6",
  "teal.6",
  "grape.6",
  "orange.6",
  "cyan.6",
  "pink.6",
  "lime.7",
  "indigo.6",
  "red.6",
  "yellow.7",
];
const HEIGHT = 180;

function ChartCard({
  title,
  hint,
  children,
}: {
  title: string;
  hint: string;
  children: ReactNode;
}) {
  return (
    <Card withBorder padding="sm" aria-label={`${title} chart`} data-testid="worker-chart">
      <Title order={5}>{title}</Title>
      <Text size="xs" c="dimmed" mb="xs">
        {hint}
      </Text>
      {children}
    </Card>
  );
}

function clock(t: number): string {
  const seconds = Math.round(t);
  return seconds < 60
    ? `${seconds}s`
    : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}`;
}

interface Props {
  samples: Sample[];
  pool: WorkerRow[];
}

/** The push over time: throughput, queue depth, how the work spreads over the workers, the
 * error rate and the bucket; and the current share of work per worker. */
export function WorkerCharts({ samples, pool }: Props) {
  const ids = [
    ...new Set([...pool.map((w) => String(w.id)), ...samples.flatMap((s) => Object.keys(s.done))]),
  ].sort((a, b) => Number(a) - Number(b));
  const data = samples.map((s) => ({
    t: Math.round(s.t * 10) / 10,
    rate: Number(s.rate.toFixed(2)),
    queued: s.queued,
    errors: Number((s.errorRate * 100).toFixed(2)),
    bucket: Math.round(s.available),
    ...Object.fromEntries(ids.map((id) => [`w${id}`, s.done[id] ?? 0])),
  }));
  const workerSeries = ids.map((id, index) => ({
    name: `w${id}`,
    label: `Worker ${id}`,
    color: PALETTE[index % PALETTE.length] ?? "blue.6",
  }));
  const distribution = pool.map((w) => ({
    worker: `Worker ${w.id}`,
    done: w.items_done,
    errors: w.errors,
  }));
  const few = samples.length < 2;
  const waiting = (
    <Text size="sm" c="dimmed" h={HEIGHT}>
      Collecting figures…
    </Text>
  );
  // Seconds since the start on a numeric axis: samples come at uneven moments.
  const common = {
    h: HEIGHT,
    data,
    dataKey: "t",
    withDots: false,
    curveType: "linear" as const,
    xAxisProps: {
      type: "number" as const,
      domain: ["dataMin", "dataMax"],
      allowDecimals: false,
      tickFormatter: clock,
    },
  };

  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <ChartCard title="Throughput" hint="Changes finished per second, averaged since the start">
        {few ? (
          waiting
        ) : (
          <LineChart
            {...common}
            unit="/s"
            series={[{ name: "rate", label: "Changes/s", color: "blue.6" }]}
          />
        )}
      </ChartCard>
      <ChartCard title="Queue depth" hint="Approved changes not finished yet">
        {few ? (
          waiting
        ) : (
          <AreaChart
            {...common}
            series={[{ name: "queued", label: "Waiting", color: "violet.6" }]}
          />
        )}
      </ChartCard>
      <ChartCard title="Task distribution over time" hint="Operations each worker has done">
        {few || workerSeries.length === 0 ? (
          waiting
        ) : (
          <AreaChart
            {...common}
            type="stacked"
            series={workerSeries}
            withLegend
            legendProps={{ verticalAlign: "bottom" }}
          />
        )}
      </ChartCard>
      <ChartCard title="Task distribution per worker" hint="Operations done and failed, by worker">
        {distribution.length === 0 ? (
          <Text size="sm" c="dimmed" h={HEIGHT}>
            No worker has started yet.
          </Text>
        ) : (
          <BarChart
            h={HEIGHT}
            data={distribution}
            dataKey="worker"
            type="stacked"
            series={[
              { name: "done", label: "Done", color: "teal.6" },
              { name: "errors", label: "Errors", color: "red.6" },
            ]}
          />
        )}
      </ChartCard>
      <ChartCard title="Error rate" hint="Share of finished changes that failed">
        {few ? (
          waiting
        ) : (
          <LineChart
            {...common}
            unit="%"
            series={[{ name: "errors", label: "Failed", color: "red.6" }]}
          />
        )}
      </ChartCard>
      <ChartCard title="Rate-limit bucket" hint="Points available in Shopify's bucket">
        {few ? (
          waiting
        ) : (
          <AreaChart {...common} series={[{ name: "bucket", label: "Points", color: "teal.6" }]} />
        )}
      </ChartCard>
    </SimpleGrid>
  );
}
