import { Alert, Group, Loader, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { errorMessage } from "../api/client";
import { HomeTabs } from "../components/home/HomeTabs";
import { NextAction } from "../components/NextAction";
import { RunningJobs } from "../components/RunningJobs";
import { StoreSyncCard } from "../components/StoreSyncCard";
import { useActiveJobs } from "../hooks/useJobs";
import { useSyncStatus } from "../hooks/useSyncStatus";

/** The home page: per store the last pull and push and staged changes, running jobs, and what
 * to do next; below, one tab per step of the day's work. */
export function EnhancedSyncDashboard() {
  const status = useSyncStatus();
  const active = useActiveJobs();

  if (status.isPending)
    return (
      <Group>
        <Loader size="sm" aria-label="Loading the sync overview" />
        <Text size="sm">Loading the sync overview…</Text>
      </Group>
    );
  if (status.error)
    return (
      <Alert color="red" title="The sync overview could not be loaded">
        {errorMessage(status.error)}
      </Alert>
    );
  const { stores, staged } = status.data;
  return (
    <Stack>
      <Title order={2}>Sync overview</Title>
      <NextAction staged={staged} stores={stores.length} />
      {active.error ? (
        <Alert color="red" title="Running jobs could not be loaded">
          {errorMessage(active.error)}
        </Alert>
      ) : (
        <RunningJobs jobs={active.jobs} />
      )}
      {stores.length > 0 && (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          {stores.map((store) => (
            <StoreSyncCard key={store.store_id} store={store} />
          ))}
        </SimpleGrid>
      )}
      <HomeTabs stores={stores} staged={staged} />
    </Stack>
  );
}
