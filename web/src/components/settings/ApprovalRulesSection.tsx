import {
  Alert,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  NumberInput,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import type { ApprovalRule, StoreRecord } from "../../api/settings";
import { usePermissions } from "../../auth/permissions";
import { useSetApprovalRules } from "../../hooks/useApprovalRules";
import { useStoreList } from "../../hooks/useStores";
import { OnlyAdmins } from "./OnlyAdmins";

/** A store's rules in words, for the read-only view and the confirmation. */
export function describeRules(rules: ApprovalRule[]): string {
  if (rules.length === 0) return "A person approves every change.";
  const parts = rules.map((rule) =>
    rule.kind === "stock_only"
      ? "stock-only changes"
      : `price changes within ${rule.percent}% of the current price`,
  );
  return `Approved automatically: ${parts.join("; ")}.`;
}

function StoreRules({ store, editable }: { store: StoreRecord; editable: boolean }) {
  const save = useSetApprovalRules(store.id);
  const priceRule = store.approval_rules.find((r) => r.kind === "price_within_percent");
  const [stockOnly, setStockOnly] = useState(
    store.approval_rules.some((r) => r.kind === "stock_only"),
  );
  const [price, setPrice] = useState(priceRule !== undefined);
  const [percent, setPercent] = useState<number | string>(
    priceRule?.kind === "price_within_percent" ? priceRule.percent : 5,
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const rules: ApprovalRule[] = [];
    if (stockOnly) rules.push({ kind: "stock_only" });
    if (price) rules.push({ kind: "price_within_percent", percent: Number(percent) });
    save.mutate(rules, {
      onSuccess: (saved) =>
        notifications.show({
          color: "green",
          title: `Approval rules of ${saved.name} saved`,
          message: describeRules(saved.approval_rules),
        }),
    });
  };

  return (
    <Card
      withBorder
      padding="md"
      component="form"
      onSubmit={submit}
      aria-label={`Approval rules of ${store.name}`}
    >
      <Stack gap="sm">
        <Title order={4}>{store.name}</Title>
        <Text size="sm">{describeRules(store.approval_rules)}</Text>
        <Checkbox
          label="Approve stock-only changes automatically (inventory quantities, nothing else)"
          checked={stockOnly}
          onChange={(e) => setStockOnly(e.currentTarget.checked)}
          disabled={!editable}
        />
        <Group gap="sm" align="center" wrap="wrap">
          <Checkbox
            label="Approve price changes automatically when within"
            checked={price}
            onChange={(e) => setPrice(e.currentTarget.checked)}
            disabled={!editable}
          />
          <NumberInput
            aria-label={`Price change limit for ${store.name}, percent`}
            value={percent}
            onChange={setPercent}
            min={0.1}
            max={100}
            step={1}
            decimalScale={2}
            suffix="%"
            w={110}
            disabled={!editable || !price}
          />
        </Group>
        {save.error && (
          <Alert color="red" title="Not saved">
            {errorMessage(save.error)}
          </Alert>
        )}
        {editable && (
          <Group>
            <Button
              type="submit"
              loading={save.isPending}
              aria-label={`Save the rules of ${store.name}`}
            >
              Save rules
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

/** Which staged updates approve themselves, per store. Creates and deletes always wait. */
export function ApprovalRulesSection() {
  const { isAdmin } = usePermissions();
  const stores = useStoreList();
  if (stores.isPending) return <Loader size="sm" aria-label="Loading approval rules" />;
  if (stores.error)
    return (
      <Alert color="red" title="The approval rules could not be loaded">
        {errorMessage(stores.error)}
      </Alert>
    );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        A rule approves an update only when it covers every changed field; new products and
        deletions always wait for a person. The rule is recorded as the approver.
      </Text>
      {!isAdmin && <OnlyAdmins>Only admins can change approval rules.</OnlyAdmins>}
      {stores.data.length === 0 ? (
        <Text size="sm">No store is connected yet.</Text>
      ) : (
        stores.data.map((store) => (
          <StoreRules
            key={`${store.id}-${JSON.stringify(store.approval_rules)}`}
            store={store}
            editable={isAdmin}
          />
        ))
      )}
    </Stack>
  );
}
