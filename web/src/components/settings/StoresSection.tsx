import { Alert, Badge, Button, Card, Group, Loader, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import type { StoreRecord } from "../../api/settings";
import { usePermissions } from "../../auth/permissions";
import { ago } from "../../format";
import { useStoreList, useTestConnection } from "../../hooks/useStores";
import { useSyncStatus } from "../../hooks/useSyncStatus";
import { ConnectionResult } from "./ConnectionResult";
import { ConnectStoreForm } from "./ConnectStoreForm";
import { EditStoreModal } from "./EditStoreModal";
import { OnlyAdmins } from "./OnlyAdmins";

function locations(map: Record<string, string>): string {
  const pairs = Object.entries(map);
  if (pairs.length === 0) return "each Xorosoft location to the Shopify location of its name";
  return pairs.map(([from, to]) => `${from} → ${to}`).join(", ");
}

/** Last pull and push as the sync overview has them: live events keep that one current. */
function useLastSync(store: StoreRecord): { pull: string | null; push: string | null } {
  const live = useSyncStatus().data?.stores.find((s) => s.store_id === store.id);
  return {
    pull: live ? live.last_pull_at : store.last_pull_at,
    push: live ? live.last_push_at : store.last_push_at,
  };
}

function StoreCard({ store, onEdit }: { store: StoreRecord; onEdit: () => void }) {
  const { canApprove, isAdmin } = usePermissions();
  const test = useTestConnection(store.id);
  const last = useLastSync(store);
  return (
    <Card withBorder padding="md" aria-label={store.name} component="section">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Group gap="xs">
            <Title order={4}>{store.name}</Title>
            <Badge color={store.is_active ? "green" : "gray"} variant="light">
              {store.is_active ? "active" : "inactive"}
            </Badge>
            {store.plan && (
              <Badge color="blue" variant="outline">
                {store.plan}
              </Badge>
            )}
          </Group>
          <Group gap="xs">
            {canApprove && (
              <Button
                size="xs"
                variant="light"
                onClick={() => test.mutate()}
                loading={test.isPending}
                aria-label={`Test the connection to ${store.name}`}
              >
                Test connection
              </Button>
            )}
            {isAdmin && (
              <Button
                size="xs"
                variant="default"
                onClick={onEdit}
                aria-label={`Edit ${store.name}`}
              >
                Edit
              </Button>
            )}
          </Group>
        </Group>
        <Text size="sm">
          {store.shop_domain} · API {store.api_version}
        </Text>
        <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          Endpoint: {store.admin_url}
          {store.custom_admin_url ? " (custom)" : ""}
        </Text>
        <Text size="sm">
          Access token: {store.has_access_token ? "set" : "missing"} · Webhook secret:{" "}
          {store.has_webhook_secret ? "set" : "not set"}
          {store.webhooks.subscribed.length > 0 &&
            ` · ${store.webhooks.subscribed.length} webhook topics subscribed`}
        </Text>
        <Text size="sm">Location map: {locations(store.location_map)}.</Text>
        <Text size="sm" c="dimmed">
          Last pull {ago(last.pull)} · last push {ago(last.push)}
        </Text>
        {test.error && <Alert color="red">{errorMessage(test.error)}</Alert>}
        {test.data && <ConnectionResult result={test.data} />}
      </Stack>
    </Card>
  );
}

/** The Shopify stores: every role sees them; approvers test connections; admins connect and
 * change them. */
export function StoresSection() {
  const { isAdmin } = usePermissions();
  const stores = useStoreList();
  const [connecting, setConnecting] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);

  if (stores.isPending) return <Loader size="sm" aria-label="Loading stores" />;
  if (stores.error)
    return (
      <Alert color="red" title="The stores could not be loaded">
        {errorMessage(stores.error)}
      </Alert>
    );
  const editingStore = stores.data.find((s) => s.id === editing) ?? null;
  return (
    <Stack>
      {!isAdmin && <OnlyAdmins>Only admins can connect or change stores.</OnlyAdmins>}
      {stores.data.length === 0 && (
        <Text size="sm">
          No store is connected yet.{isAdmin ? "" : " Ask an admin to connect one."}
        </Text>
      )}
      {stores.data.map((store) => (
        <StoreCard key={store.id} store={store} onEdit={() => setEditing(store.id)} />
      ))}
      {isAdmin &&
        (stores.data.length === 0 ? (
          <ConnectStoreForm onDone={() => setConnecting(false)} />
        ) : connecting ? (
          <ConnectStoreForm
            onDone={() => setConnecting(false)}
            onCancel={() => setConnecting(false)}
          />
        ) : (
          <Group>
            <Button onClick={() => setConnecting(true)}>Connect a store</Button>
          </Group>
        ))}
      <EditStoreModal store={editingStore} onClose={() => setEditing(null)} />
    </Stack>
  );
}
