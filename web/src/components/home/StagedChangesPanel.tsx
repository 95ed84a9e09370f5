import { Anchor, Button, Group, Table, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { STAGED_STATUSES, type StagedCounts, type StoreSyncStatus } from "../../api/types";
import { StageButton } from "../StageButton";

/** The review page, filtered (its query parameters are those of GET /api/sync/staged). */
export function reviewLink(filters: { status?: string; store_id?: number }): string {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.store_id !== undefined) params.set("store_id", String(filters.store_id));
  const text = params.toString();
  return text ? `/review?${text}` : "/review";
}

function CountCell({
  n,
  status,
  label,
  storeId,
}: {
  n: number;
  status: string;
  label: string;
  storeId?: number;
}) {
  if (n === 0) return <Text c="dimmed">0</Text>;
  return (
    <Anchor
      component={Link}
      to={reviewLink(storeId === undefined ? { status } : { status, store_id: storeId })}
      aria-label={`Review ${n.toLocaleString()} ${status} in ${label}`}
    >
      {n.toLocaleString()}
    </Anchor>
  );
}

function Row({
  label,
  counts,
  storeId,
}: {
  label: string;
  counts: StagedCounts;
  storeId?: number;
}) {
  return (
    <Table.Tr>
      <Table.Th scope="row">{label}</Table.Th>
      {STAGED_STATUSES.map((status) => (
        <Table.Td key={status}>
          <CountCell
            n={counts[status] ?? 0}
            status={status}
            label={label}
            {...(storeId === undefined ? {} : { storeId })}
          />
        </Table.Td>
      ))}
    </Table.Tr>
  );
}

/** Staged changes by status and store; each count opens the review page on exactly those. */
export function StagedChangesPanel({
  stores,
  staged,
}: {
  stores: StoreSyncStatus[];
  staged: StagedCounts;
}) {
  if (stores.length === 0)
    return <Text size="sm">No store is connected, so nothing is staged yet.</Text>;
  return (
    <>
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="Staged changes by status" withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Store</Table.Th>
              {STAGED_STATUSES.map((status) => (
                <Table.Th key={status} tt="capitalize">
                  {status}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {stores.map((store) => (
              <Row
                key={store.store_id}
                label={store.name}
                counts={store.staged}
                storeId={store.store_id}
              />
            ))}
            {stores.length > 1 && <Row label="All stores" counts={staged} />}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Group>
        <Button component={Link} to={reviewLink({ status: "pending" })} variant="light">
          Review pending changes
        </Button>
        {stores.map((store) => (
          <StageButton
            key={store.store_id}
            storeId={store.store_id}
            storeName={store.name}
            label={stores.length > 1 ? `Stage differences: ${store.name}` : "Stage differences now"}
          />
        ))}
        {(staged.conflict ?? 0) > 0 && (
          <Button
            component={Link}
            to={reviewLink({ status: "conflict" })}
            variant="light"
            color="orange"
          >
            Resolve conflicts
          </Button>
        )}
      </Group>
    </>
  );
}
