import { Alert, Button, Card, Group, Radio, Select, Stack, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import { PULL_KIND, pullRequest, type PullScope } from "../../api/home";
import type { StoreSyncStatus } from "../../api/types";
import { usePermissions } from "../../auth/permissions";
import { ago } from "../../format";
import { useStartPull } from "../../hooks/useHomeSync";
import { PermissionNote } from "./PermissionNote";
import { RecentJobs } from "./RecentJobs";

type ScopeKind = PullScope["kind"];

function today(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Pull from Shopify: what changed there since the last pull, since a date, or everything;
 * the differences are staged for review. */
export function ShopifyDownPanel({
  stores,
  storeNames,
}: {
  stores: StoreSyncStatus[];
  storeNames: Map<number, string>;
}) {
  const { canEdit } = usePermissions();
  const pull = useStartPull();
  const [storeId, setStoreId] = useState<string | null>(null);
  const [scope, setScope] = useState<ScopeKind>("since_last");
  const [since, setSince] = useState("");
  const chosen = stores.find((s) => String(s.store_id) === storeId) ?? stores[0];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!chosen) return;
    const picked: PullScope =
      scope === "since"
        ? { kind: "since", date: since }
        : scope === "full"
          ? { kind: "full" }
          : { kind: "since_last" };
    pull.mutate(pullRequest(chosen.store_id, picked));
  };

  return (
    <Stack>
      <Text size="sm" c="dimmed">
        A pull reads products from Shopify and stages every difference from the catalog for review.
        Nothing changes in the catalog until the changes are approved.
      </Text>
      {stores.length === 0 ? (
        <Text size="sm">Connect a store in Settings before pulling.</Text>
      ) : canEdit ? (
        <Card
          withBorder
          padding="md"
          component="form"
          onSubmit={submit}
          aria-label="Pull from Shopify"
        >
          <Stack gap="sm">
            <Select
              label="Store"
              data={stores.map((s) => ({ value: String(s.store_id), label: s.name }))}
              value={chosen ? String(chosen.store_id) : null}
              onChange={setStoreId}
              allowDeselect={false}
              maw={360}
            />
            <Radio.Group
              label="What to pull"
              value={scope}
              onChange={(value) => setScope(value as ScopeKind)}
            >
              <Stack gap={6} mt={4}>
                <Radio
                  value="since_last"
                  label={`Changes since the last pull (${chosen ? ago(chosen.last_pull_at) : "never"})`}
                />
                <Radio value="since" label="Changes since a date" />
                <Radio value="full" label="The whole store (slow on a large store)" />
              </Stack>
            </Radio.Group>
            {scope === "since" && (
              <TextInput
                type="date"
                label="Changed on or after"
                value={since}
                max={today()}
                onChange={(event) => setSince(event.currentTarget.value)}
                required
                maw={220}
              />
            )}
            {pull.error && (
              <Alert color="red" title="The pull did not start">
                {errorMessage(pull.error)}
              </Alert>
            )}
            <Group>
              <Button
                type="submit"
                loading={pull.isPending}
                disabled={scope === "since" && since === ""}
              >
                Start pull
              </Button>
            </Group>
          </Stack>
        </Card>
      ) : (
        <PermissionNote>Viewers cannot start a pull.</PermissionNote>
      )}
      <Text fw={600}>Recent pulls</Text>
      <RecentJobs
        kind={PULL_KIND}
        title="Recent pulls"
        empty="No pulls yet."
        storeNames={storeNames}
      />
    </Stack>
  );
}
