import { Alert, Button, Card, Group, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import type { StoreCreate } from "../../api/settings";
import { useCreateStore } from "../../hooks/useStores";
import { LocationMapEditor, mapOf, type LocationPair } from "./LocationMapEditor";

const EMPTY = {
  name: "",
  shopDomain: "",
  accessToken: "",
  apiVersion: "",
  adminUrl: "",
  webhookSecret: "",
};

/** Register a shop. The access token goes in once and is never shown again. */
export function ConnectStoreForm({
  onDone,
  onCancel,
}: {
  onDone: () => void;
  onCancel?: () => void;
}) {
  const create = useCreateStore();
  const [fields, setFields] = useState(EMPTY);
  const [locations, setLocations] = useState<LocationPair[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const field = (name: keyof typeof EMPTY) => (event: { currentTarget: { value: string } }) => {
    const value = event.currentTarget.value; // read now: React clears currentTarget after
    setFields((old) => ({ ...old, [name]: value }));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const map = mapOf(locations);
    if (typeof map === "string") {
      setProblem(map);
      return;
    }
    setProblem(null);
    const body: StoreCreate = {
      name: fields.name.trim(),
      shop_domain: fields.shopDomain.trim(),
      access_token: fields.accessToken,
      location_map: map,
      ...(fields.apiVersion.trim() && { api_version: fields.apiVersion.trim() }),
      ...(fields.adminUrl.trim() && { admin_url: fields.adminUrl.trim() }),
      ...(fields.webhookSecret && { webhook_secret: fields.webhookSecret }),
    };
    create.mutate(body, {
      onSuccess: (store) => {
        setFields(EMPTY);
        setLocations([]);
        notifications.show({
          color: "green",
          title: `${store.name} connected`,
          message: "Test the connection to check the access token.",
        });
        onDone();
      },
    });
  };

  return (
    <Card withBorder padding="md" component="form" onSubmit={submit} aria-label="Connect a store">
      <Stack gap="sm">
        <Title order={4}>Connect a store</Title>
        <Group grow wrap="wrap" align="flex-start">
          <TextInput
            label="Store name"
            value={fields.name}
            onChange={field("name")}
            required
            miw={220}
          />
          <TextInput
            label="Shop domain"
            placeholder="cowans.myshopify.com"
            value={fields.shopDomain}
            onChange={field("shopDomain")}
            required
            miw={220}
          />
        </Group>
        <PasswordInput
          label="Access token"
          description="The Admin API access token of the store's app. It is stored encrypted and never shown again."
          value={fields.accessToken}
          onChange={field("accessToken")}
          required
          autoComplete="off"
        />
        <Group grow wrap="wrap" align="flex-start">
          <TextInput
            label="API version"
            placeholder="2026-10"
            description="Leave empty for the default."
            value={fields.apiVersion}
            onChange={field("apiVersion")}
            miw={160}
          />
          <TextInput
            label="GraphQL endpoint"
            placeholder="https://cowans.myshopify.com/admin/api/2026-10/graphql.json"
            description="Only for a proxy or the emulator; leave empty for Shopify's own."
            value={fields.adminUrl}
            onChange={field("adminUrl")}
            miw={260}
          />
        </Group>
        <PasswordInput
          label="Webhook secret"
          description="Optional: the app's client secret, which Shopify signs webhooks with."
          value={fields.webhookSecret}
          onChange={field("webhookSecret")}
          autoComplete="off"
        />
        <LocationMapEditor value={locations} onChange={setLocations} />
        {(problem || create.error) && (
          <Alert color="red" title="The store was not connected">
            {problem ?? errorMessage(create.error)}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={create.isPending}>
            Connect store
          </Button>
          {onCancel && (
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          )}
        </Group>
      </Stack>
    </Card>
  );
}
