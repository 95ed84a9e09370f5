import {
  Alert,
  Button,
  Card,
  Group,
  Loader,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { errorMessage } from "../api/client";
import type { PushConfig } from "../api/push";
import { usePermissions } from "../auth/permissions";
import { PlanPreview } from "../components/push/PlanPreview";
import { formProblem, PushForm } from "../components/push/PushForm";
import { PushProgress } from "../components/push/PushProgress";
import {
  isRunning,
  usePushPlan,
  usePushStatus,
  usePushStores,
  useStartPush,
  useStopPush,
} from "../hooks/usePush";
import { useSyncStatus } from "../hooks/useSyncStatus";

const DEFAULT_CONFIG: PushConfig = {
  minWorkers: 1,
  maxWorkers: 10,
  batchSize: null,
  priority: "normal",
  strategy: "balanced",
};

/** Push approved changes to a Shopify store: choose the workers, batch size, priority and
 * strategy, see the planner's prediction, start, follow and stop the push. */
export function ParallelSyncControl() {
  const { canApprove } = usePermissions();
  const stores = usePushStores();
  const overview = useSyncStatus();
  const [chosen, setChosen] = useState<number | null>(null);
  const [config, setConfig] = useState<PushConfig>(DEFAULT_CONFIG);
  const active = (stores.data ?? []).filter((store) => store.is_active);
  const storeId = chosen ?? active[0]?.id ?? null;
  const approved =
    overview.data?.stores.find((store) => store.store_id === storeId)?.staged.approved ?? 0;
  const problem = formProblem(config);
  const plan = usePushPlan(storeId, config, approved, canApprove && problem === null);
  const status = usePushStatus(storeId);
  const start = useStartPush();
  const stop = useStopPush();

  if (stores.isPending) return <Loader aria-label="Loading stores" />;
  if (stores.error) return <Alert color="red">{errorMessage(stores.error)}</Alert>;
  if (active.length === 0)
    return (
      <Stack>
        <Title order={2}>Push to Shopify</Title>
        <Alert color="blue">
          No active Shopify store yet: an admin adds one under Settings, then approved changes can
          be pushed here.
        </Alert>
      </Stack>
    );

  const running = isRunning(status.data);
  // While another store's prediction is still shown (kept during the refetch), it says nothing
  // of this one.
  const planned = plan.data?.store_id === storeId ? plan.data : undefined;
  const nothing = planned !== undefined && planned.changes === 0 && !plan.isPlaceholderData;
  const blocker = running
    ? "A push of this store is running: stop it or wait for it to finish."
    : (problem ?? (nothing ? "Nothing approved to push." : null));

  const onStart = () => {
    if (storeId === null) return;
    start.mutate(
      { storeId, config },
      {
        onSuccess: ({ job_id }) =>
          notifications.show({
            color: "teal",
            title: "Push started",
            message: `Push #${job_id} is sending the approved changes to Shopify.`,
          }),
      },
    );
  };

  return (
    <Stack>
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Title order={2}>Push to Shopify</Title>
        <Select
          label="Store"
          w={260}
          allowDeselect={false}
          data={active.map((store) => ({
            value: String(store.id),
            label: `${store.name} (${store.shop_domain})`,
          }))}
          value={storeId === null ? null : String(storeId)}
          onChange={(value) => setChosen(value === null ? null : Number(value))}
        />
      </Group>
      {status.error && <Alert color="red">{errorMessage(status.error)}</Alert>}
      {status.data && (
        <PushProgress
          status={status.data}
          canStop={canApprove}
          onStop={() => status.data?.job_id && stop.mutate(status.data.job_id)}
          stopping={stop.isPending}
          stopError={stop.error ? errorMessage(stop.error) : null}
        />
      )}
      {!canApprove ? (
        <Alert color="gray" title="Pushing needs the approver role">
          You can follow pushes here and on the Workers page; an approver or admin starts them.
        </Alert>
      ) : (
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <PushForm config={config} onChange={setConfig} defaultBatchSize={planned?.batch_size} />
          <Stack>
            <PlanPreview
              plan={planned}
              error={plan.error}
              isLoading={planned === undefined && plan.fetchStatus !== "idle"}
              isUpdating={plan.isFetching && planned !== undefined}
            />
            <Card withBorder padding="md">
              <Stack gap="xs">
                <Group>
                  <Button
                    onClick={onStart}
                    loading={start.isPending}
                    disabled={blocker !== null || storeId === null}
                  >
                    Start push
                  </Button>
                  {blocker && (
                    <Text size="sm" c="dimmed" data-testid="start-blocker">
                      {blocker}
                    </Text>
                  )}
                </Group>
                {start.error && <Alert color="red">{errorMessage(start.error)}</Alert>}
              </Stack>
            </Card>
          </Stack>
        </SimpleGrid>
      )}
    </Stack>
  );
}
