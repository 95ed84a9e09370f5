import { Alert, Button, Card, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { errorMessage } from "../../api/client";
import { ago } from "../../format";
import { useRecentBatches } from "../../hooks/useBatch";
import { BatchStateBadge, operationLabel } from "./labels";

interface Props {
  current: number | null;
  onShow: (id: number) => void;
}

export function RecentBatches({ current, onShow }: Props) {
  const recent = useRecentBatches();
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>Recent batches</Title>
        {recent.isPending ? (
          <Loader size="xs" aria-label="Loading recent batches" />
        ) : recent.error ? (
          <Alert color="red">{errorMessage(recent.error)}</Alert>
        ) : recent.data.items.length === 0 ? (
          <Text size="sm" c="dimmed">
            No batches yet.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing={4} highlightOnHover aria-label="Recent batches">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>#</Table.Th>
                  <Table.Th>Operation</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th ta="right">Done</Table.Th>
                  <Table.Th ta="right">Failed</Table.Th>
                  <Table.Th>Started</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {recent.data.items.map((batch) => (
                  <Table.Tr
                    key={batch.id}
                    {...(batch.id === current ? { bg: "var(--mantine-color-blue-light)" } : {})}
                  >
                    <Table.Td>{batch.id}</Table.Td>
                    <Table.Td>
                      {operationLabel(batch.config.operation, batch.config.format)}
                      {batch.config.push ? " + push" : ""}
                    </Table.Td>
                    <Table.Td>
                      <BatchStateBadge state={batch.state} failed={batch.failed} />
                    </Table.Td>
                    <Table.Td ta="right">
                      {batch.processed.toLocaleString()} / {batch.total.toLocaleString()}
                    </Table.Td>
                    <Table.Td ta="right">{batch.failed.toLocaleString()}</Table.Td>
                    <Table.Td>{ago(batch.created_at)}</Table.Td>
                    <Table.Td>
                      <Button
                        size="compact-xs"
                        variant="subtle"
                        onClick={() => onShow(batch.id)}
                        aria-label={`Show batch ${batch.id}`}
                        disabled={batch.id === current}
                      >
                        Show
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
    </Card>
  );
}
