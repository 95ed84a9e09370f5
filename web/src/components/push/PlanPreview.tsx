import {
  Alert,
  Badge,
  Card,
  Group,
  List,
  Loader,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import type { PushPlan } from "../../api/push";
import { errorMessage } from "../../api/client";
import { count } from "../../format";
import { duration, kindLabel, whole } from "./format";

function Figure({
  label,
  value,
  hint,
}: {
  label: string;
  value: string;
  hint?: string | undefined;
}) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} aria-label={label}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Stack>
  );
}

function operations(plan: PushPlan): string {
  const parts = (["create", "update", "delete"] as const)
    .map((op) => [op, plan.operations[op] ?? 0] as const)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n.toLocaleString()} ${op}${n === 1 ? "" : "s"}`);
  return parts.join(", ");
}

interface Props {
  plan: PushPlan | undefined;
  error: Error | null;
  isLoading: boolean;
  isUpdating: boolean;
}

/** The planner's prediction for the approved changes with the settings as they stand. */
export function PlanPreview({ plan, error, isLoading, isUpdating }: Props) {
  return (
    <Card withBorder padding="md" aria-busy={isUpdating || isLoading}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={4}>Prediction</Title>
          {isUpdating && (
            <Group gap={6}>
              <Loader size="xs" />
              <Text size="xs" c="dimmed">
                Updating…
              </Text>
            </Group>
          )}
        </Group>
        {error && (
          <Alert color="red" title="No prediction">
            {errorMessage(error)}
          </Alert>
        )}
        {!plan && isLoading && (
          <Group gap="xs">
            <Loader size="sm" />
            <Text size="sm">Planning the approved changes…</Text>
          </Group>
        )}
        {plan && plan.changes === 0 && (
          <Alert color="gray" title="Nothing approved to push">
            Approve changes on the Review page first; they are planned here as soon as they are
            approved.
          </Alert>
        )}
        {plan && plan.changes > 0 && (
          <>
            <Text size="sm">
              {count(plan.changes, "approved change")} ({operations(plan)}) would take:
            </Text>
            <SimpleGrid cols={{ base: 2, sm: 4 }}>
              <Figure
                label="API points"
                value={whole(plan.predicted_cost)}
                hint="of Shopify's rate limit"
              />
              <Figure label="Requests" value={whole(plan.requests)} />
              <Figure
                label="Bulk operations"
                value={whole(plan.bulk_operations)}
                hint={plan.bulk_operations ? "run by Shopify, nearly free" : undefined}
              />
              <Figure
                label="Time"
                value={duration(plan.predicted_seconds)}
                hint={`with up to ${count(plan.workers.max, "worker")}`}
              />
            </SimpleGrid>
            <Table.ScrollContainer minWidth={420}>
              <Table striped fz="sm" aria-label="Planned operations">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Operation</Table.Th>
                    <Table.Th ta="right">Products</Table.Th>
                    <Table.Th ta="right">Requests</Table.Th>
                    <Table.Th ta="right">Points</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {plan.by_kind.map((row) => (
                    <Table.Tr key={row.kind}>
                      <Table.Td>
                        {kindLabel(row.kind)}{" "}
                        {row.bulk && (
                          <Badge size="xs" variant="light">
                            bulk
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td ta="right">{whole(row.works)}</Table.Td>
                      <Table.Td ta="right">{whole(row.bulk ? row.steps * 4 : row.steps)}</Table.Td>
                      <Table.Td ta="right">{whole(row.predicted_cost)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {plan.unplannable > 0 && (
              <Alert color="orange" title={`${count(plan.unplannable, "change")} cannot be sent`}>
                <List size="sm">
                  {plan.unplannable_changes.map((change) => (
                    <List.Item key={`${change.staged_id}-${change.handle}`}>
                      {change.handle}: {change.reason}
                    </List.Item>
                  ))}
                </List>
              </Alert>
            )}
            <Text size="xs" c="dimmed">
              A prediction from the stored state of the store: a product edited in Shopify since the
              last sync is held back as a conflict when the push checks it.
            </Text>
          </>
        )}
      </Stack>
    </Card>
  );
}
