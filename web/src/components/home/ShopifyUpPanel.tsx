import { Alert, Anchor, Button, Card, Group, Stack, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { errorMessage } from "../../api/client";
import { PUSH_KIND } from "../../api/home";
import type { StoreSyncStatus } from "../../api/types";
import { usePermissions } from "../../auth/permissions";
import { ago, count } from "../../format";
import { useStartPush } from "../../hooks/useHomeSync";
import { PermissionNote } from "./PermissionNote";
import { RecentJobs } from "./RecentJobs";

function StorePush({ store, canPush }: { store: StoreSyncStatus; canPush: boolean }) {
  const push = useStartPush();
  const approved = store.staged.approved ?? 0;
  return (
    <Card withBorder padding="md">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Text fw={600}>{store.name}</Text>
          <Text size="sm" c="dimmed" title={store.last_push_at ?? undefined}>
            Last push: {ago(store.last_push_at)}
          </Text>
        </Group>
        <Text size="sm">
          {approved === 0
            ? "No approved changes waiting."
            : `${count(approved, "approved change")} ready to push.`}
        </Text>
        {canPush && (
          <Group>
            <Button
              onClick={() => push.mutate(store.store_id)}
              loading={push.isPending}
              disabled={approved === 0}
              aria-label={`Push ${count(approved, "approved change")} to ${store.name}`}
            >
              Push {approved.toLocaleString()} now
            </Button>
          </Group>
        )}
        {push.error && (
          <Alert color="red" title="The push did not start">
            {errorMessage(push.error)}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

/** Push the approved changes with the default settings; /push has the engine's options. */
export function ShopifyUpPanel({
  stores,
  storeNames,
}: {
  stores: StoreSyncStatus[];
  storeNames: Map<number, string>;
}) {
  const { canApprove } = usePermissions();
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        Sends every approved change to Shopify with the default worker settings. To choose workers,
        batch size or strategy, use{" "}
        <Anchor component={Link} to="/push">
          Push to Shopify
        </Anchor>
        .
      </Text>
      {!canApprove && (
        <PermissionNote>Only approvers and admins can push to Shopify.</PermissionNote>
      )}
      {stores.length === 0 ? (
        <Text size="sm">Connect a store in Settings before pushing.</Text>
      ) : (
        stores.map((store) => <StorePush key={store.store_id} store={store} canPush={canApprove} />)
      )}
      <Text fw={600}>Recent pushes</Text>
      <RecentJobs
        kind={PUSH_KIND}
        title="Recent pushes"
        empty="No pushes yet."
        storeNames={storeNames}
      />
    </Stack>
  );
}
