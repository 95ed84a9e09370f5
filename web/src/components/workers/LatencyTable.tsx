import { Card, Group, Table, Text, Title } from "@mantine/core";
import type { DebugMetrics } from "../../api/push";
import { count } from "../../format";
import { kindLabel, whole } from "../push/format";

const ms = (seconds: number) => `${Math.round(seconds * 1000).toLocaleString()} ms`;

/** How long each kind of request takes (percentiles), what it costs, and the retries by cause. */
export function LatencyTable({ details }: { details: DebugMetrics }) {
  const kinds = Object.entries(details.latency);
  const retries = Object.entries(details.retries);
  return (
    <Card withBorder padding="sm" aria-label="Request latency">
      <Title order={5} mb="xs">
        Requests by kind
      </Title>
      {kinds.length === 0 ? (
        <Text size="sm" c="dimmed">
          No request has finished yet.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table fz="sm" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Operation</Table.Th>
                <Table.Th ta="right">Requests</Table.Th>
                <Table.Th ta="right">p50</Table.Th>
                <Table.Th ta="right">p90</Table.Th>
                <Table.Th ta="right">p99</Table.Th>
                <Table.Th ta="right">Points per product</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {kinds.map(([kind, figures]) => (
                <Table.Tr key={kind}>
                  <Table.Td>{kindLabel(kind)}</Table.Td>
                  <Table.Td ta="right">{whole(figures.steps)}</Table.Td>
                  <Table.Td ta="right">{ms(figures.p50)}</Table.Td>
                  <Table.Td ta="right">{ms(figures.p90)}</Table.Td>
                  <Table.Td ta="right">{ms(figures.p99)}</Table.Td>
                  <Table.Td ta="right">
                    {figures.points_per_work == null ? "—" : figures.points_per_work.toFixed(1)}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Group gap="lg" mt="xs">
        <Text size="sm">
          {retries.length === 0
            ? "No retries."
            : `Retries: ${retries.map(([cause, n]) => `${cause.replace(/_/g, " ")} ${n}`).join(", ")}`}
        </Text>
        <Text size="sm" c="dimmed">
          Waited for the bucket {count(details.bucket_waits.count ?? 0, "time")}
        </Text>
      </Group>
    </Card>
  );
}
