import { Alert, Loader, SimpleGrid, Stack, Title } from "@mantine/core";
import { errorMessage } from "../api/client";
import { NextAction } from "../components/NextAction";
import { RunningJobs } from "../components/RunningJobs";
import { StoreSyncCard } from "../components/StoreSyncCard";
import { useActiveJobs } from "../hooks/useJobs";
import { useSyncStatus } from "../hooks/useSyncStatus";

/** The home page: per store the last pull and push and staged changes, running jobs, and what
 * to do next. */
export function EnhancedSyncDashboard() {
  const status = useSyncStatus();
  const active = useActiveJobs();

  if (status.isPending) return <Loader />;
  if (status.error) return <Alert color="red">{errorMessage(status.error)}</Alert>;
  const { stores, staged } = status.data;
  return (
    <Stack>
      <Title order={2}>Sync overview</Title>
      <NextAction staged={staged} stores={stores.length} />
      {active.error ? (
        <Alert color="red">{errorMessage(active.error)}</Alert>
      ) : (
        <RunningJobs jobs={active.jobs} />
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {stores.map((store) => (
          <StoreSyncCard key={store.store_id} store={store} />
        ))}
      </SimpleGrid>
    </Stack>
  );
}
