import { Badge, Card, Group, Stack, Text, Title } from "@mantine/core";
import { STAGED_STATUSES, type StagedStatus, type StoreSyncStatus } from "../api/types";
import { ago } from "../format";

const COLORS: Record<StagedStatus, string> = {
  pending: "blue",
  conflict: "orange",
  approved: "teal",
  applied: "gray",
  rejected: "gray",
  failed: "red",
};

export function StoreSyncCard({ store }: { store: StoreSyncStatus }) {
  return (
    <Card withBorder padding="md">
      <Stack gap="xs">
        <Title order={5}>{store.name}</Title>
        <Group gap="lg">
          <Text size="sm" title={store.last_pull_at ?? undefined}>
            Last pull: {ago(store.last_pull_at)}
          </Text>
          <Text size="sm" title={store.last_push_at ?? undefined}>
            Last push: {ago(store.last_push_at)}
          </Text>
        </Group>
        <Group gap="xs">
          {STAGED_STATUSES.map((status) => (
            <Badge key={status} color={COLORS[status]} variant="light">
              {status}: {(store.staged[status] ?? 0).toLocaleString()}
            </Badge>
          ))}
        </Group>
      </Stack>
    </Card>
  );
}
