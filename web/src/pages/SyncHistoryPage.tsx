import {
  Alert,
  Button,
  Group,
  Loader,
  SegmentedControl,
  Select,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { useState } from "react";
import { errorMessage } from "../api/client";
import type { HistoryFilters } from "../api/push";
import { HistoryTable } from "../components/history/HistoryTable";
import { usePushStores } from "../hooks/usePush";
import { useSyncHistory } from "../hooks/useSyncHistory";

type Direction = "all" | "push" | "pull";

/** Past pulls and pushes, newest first, with their figures and errors; new runs appear live. */
export function SyncHistoryPage() {
  const [direction, setDirection] = useState<Direction>("all");
  const [storeId, setStoreId] = useState<number | null>(null);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const stores = usePushStores();
  const filters: HistoryFilters = {
    ...(direction === "all" ? {} : { direction }),
    ...(storeId === null ? {} : { store_id: storeId }),
  };
  const history = useSyncHistory(filters);
  const names = new Map((stores.data ?? []).map((store) => [store.id, store.name]));
  const storeName = (id: number | null) => (id === null ? "—" : (names.get(id) ?? `Store #${id}`));
  const toggle = (id: number) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const rows = history.data?.pages.flatMap((page) => page.items) ?? [];
  const total = history.data?.pages[0]?.total ?? 0;

  return (
    <Stack>
      <Title order={2}>Sync history</Title>
      <Group align="flex-end" wrap="wrap">
        <Stack gap={4}>
          <Text size="sm" fw={500} id="history-kind-label">
            Kind
          </Text>
          <SegmentedControl
            aria-labelledby="history-kind-label"
            value={direction}
            onChange={(value) => setDirection(value as Direction)}
            data={[
              { value: "all", label: "All" },
              { value: "push", label: "Pushes" },
              { value: "pull", label: "Pulls" },
            ]}
          />
        </Stack>
        {(stores.data?.length ?? 0) > 1 && (
          <Select
            label="Store"
            placeholder="All stores"
            clearable
            w={240}
            data={(stores.data ?? []).map((s) => ({ value: String(s.id), label: s.name }))}
            value={storeId === null ? null : String(storeId)}
            onChange={(value) => setStoreId(value === null ? null : Number(value))}
          />
        )}
      </Group>
      {history.isPending ? (
        <Loader aria-label="Loading the history" />
      ) : rows.length === 0 ? (
        history.error ? (
          <Alert color="red">{errorMessage(history.error)}</Alert>
        ) : (
          <Alert color="gray">
            {direction === "all" && storeId === null
              ? "No pull or push has run yet. Each one is listed here when it ends."
              : "No run matches these filters."}
          </Alert>
        )
      ) : (
        <>
          <HistoryTable rows={rows} storeName={storeName} open={open} onToggle={toggle} />
          {history.error && <Alert color="red">{errorMessage(history.error)}</Alert>}
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              Showing {rows.length.toLocaleString()} of {total.toLocaleString()}
            </Text>
            {history.hasNextPage && (
              <Button
                variant="default"
                onClick={() => void history.fetchNextPage()}
                loading={history.isFetchingNextPage}
              >
                Load older runs
              </Button>
            )}
          </Group>
        </>
      )}
    </Stack>
  );
}
