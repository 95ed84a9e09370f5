import {
  Alert,
  Button,
  Group,
  Modal,
  PasswordInput,
  Stack,
  Switch,
  TextInput,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import type { StoreRecord, StoreUpdate } from "../../api/settings";
import { useUpdateStore } from "../../hooks/useStores";
import { LocationMapEditor, mapOf, pairsOf, type LocationPair } from "./LocationMapEditor";

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Change a store: only the fields that changed are sent; an empty token field keeps the
 * current token. */
function EditStoreForm({ store, onClose }: { store: StoreRecord; onClose: () => void }) {
  const update = useUpdateStore(store.id);
  const [name, setName] = useState(store.name);
  const [apiVersion, setApiVersion] = useState(store.api_version);
  const [adminUrl, setAdminUrl] = useState(store.custom_admin_url ? store.admin_url : "");
  const [accessToken, setAccessToken] = useState("");
  const [webhookSecret, setWebhookSecret] = useState("");
  const [active, setActive] = useState(store.is_active);
  const [locations, setLocations] = useState<LocationPair[]>(pairsOf(store.location_map));
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const map = mapOf(locations);
    if (typeof map === "string") {
      setProblem(map);
      return;
    }
    setProblem(null);
    const body: StoreUpdate = {};
    if (name.trim() !== store.name) body.name = name.trim();
    if (apiVersion.trim() !== store.api_version) body.api_version = apiVersion.trim();
    const url = adminUrl.trim();
    if (url === "" && store.custom_admin_url) body.admin_url = null;
    else if (url !== "" && url !== store.admin_url) body.admin_url = url;
    if (accessToken) body.access_token = accessToken;
    if (webhookSecret) body.webhook_secret = webhookSecret;
    if (active !== store.is_active) body.is_active = active;
    if (!sameMap(map, store.location_map)) body.location_map = map;
    if (Object.keys(body).length === 0) {
      onClose();
      return;
    }
    update.mutate(body, {
      onSuccess: (saved) => {
        notifications.show({
          color: "green",
          title: `${saved.name} saved`,
          message: "The store's settings are updated.",
        });
        onClose();
      },
    });
  };

  return (
    <form onSubmit={submit} aria-label={`Edit ${store.name}`}>
      <Stack gap="sm">
        <TextInput
          label="Store name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          required
        />
        <TextInput label="Shop domain" value={store.shop_domain} disabled />
        <TextInput
          label="API version"
          value={apiVersion}
          onChange={(e) => setApiVersion(e.currentTarget.value)}
        />
        <TextInput
          label="GraphQL endpoint"
          description="Empty: Shopify's own endpoint for the shop."
          value={adminUrl}
          onChange={(e) => setAdminUrl(e.currentTarget.value)}
        />
        <PasswordInput
          label="New access token"
          description={
            store.has_access_token
              ? "A token is set. Leave empty to keep it."
              : "No token is set: the store cannot sync until one is."
          }
          value={accessToken}
          onChange={(e) => setAccessToken(e.currentTarget.value)}
          autoComplete="off"
        />
        <PasswordInput
          label="New webhook secret"
          description={
            store.has_webhook_secret
              ? "A secret is set. Leave empty to keep it."
              : "None set: webhooks from this store are not accepted."
          }
          value={webhookSecret}
          onChange={(e) => setWebhookSecret(e.currentTarget.value)}
          autoComplete="off"
        />
        <Switch
          label="Active (included in pulls, pushes and schedules)"
          checked={active}
          onChange={(e) => setActive(e.currentTarget.checked)}
        />
        <LocationMapEditor value={locations} onChange={setLocations} />
        {(problem || update.error) && (
          <Alert color="red" title="Not saved">
            {problem ?? errorMessage(update.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={update.isPending}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function EditStoreModal({
  store,
  onClose,
}: {
  store: StoreRecord | null;
  onClose: () => void;
}) {
  return (
    <Modal
      opened={store !== null}
      onClose={onClose}
      title={`Edit ${store?.name ?? "store"}`}
      size="lg"
    >
      {store && <EditStoreForm key={store.id} store={store} onClose={onClose} />}
    </Modal>
  );
}
