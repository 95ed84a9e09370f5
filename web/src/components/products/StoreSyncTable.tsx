import { Anchor, Badge, Table, Text, VisuallyHidden } from "@mantine/core";
import { Link } from "react-router-dom";
import type { StoreSync } from "../../api/products";
import { ago } from "../../format";
import { StageButton } from "../StageButton";
import { SyncStateBadge } from "./badges";

const OPEN_STATUS: Record<string, string> = {
  pending: "waiting for review",
  approved: "approved, waiting for the next push",
  conflict: "a conflict to resolve",
  failed: "the last push of it failed",
};

export function StoreSyncTable({ productId, sync }: { productId: number; sync: StoreSync[] }) {
  if (sync.length === 0)
    return <Text c="dimmed">No Shopify store is connected yet: Settings adds one.</Text>;
  return (
    <Table.ScrollContainer minWidth={680}>
      <Table striped verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Store</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Last synced</Table.Th>
            <Table.Th>Open change</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sync.map((store) => (
            <Table.Tr key={store.store_id}>
              <Table.Td>
                {store.store_name}{" "}
                {!store.store_active && (
                  <Badge size="xs" color="gray">
                    switched off
                  </Badge>
                )}
              </Table.Td>
              <Table.Td>
                <SyncStateBadge state={store.state} />
              </Table.Td>
              <Table.Td>
                <Text
                  size="sm"
                  title={`Pushed: ${store.last_pushed_at ?? "never"}, pulled: ${store.last_pulled_at ?? "never"}`}
                >
                  {ago(store.last_synced_at)}
                </Text>
              </Table.Td>
              <Table.Td>
                {store.open_change_id === null ? (
                  <Text size="sm" c="dimmed">
                    none
                  </Text>
                ) : (
                  <Text size="sm">
                    <Anchor component={Link} to="/review" size="sm">
                      Change #{store.open_change_id}
                    </Anchor>{" "}
                    ({store.open_change_direction === "pull" ? "from Shopify" : "to Shopify"},{" "}
                    {OPEN_STATUS[store.open_change_status ?? ""] ?? store.open_change_status})
                    {store.open_changes > 1 ? ` and ${store.open_changes - 1} more` : ""}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                {store.store_active && (
                  <StageButton
                    storeId={store.store_id}
                    storeName={store.store_name}
                    productIds={[productId]}
                    label="Stage now"
                  />
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
