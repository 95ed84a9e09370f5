// /review: the catalog team's review of staged changes. Filters in the URL, the list a hundred
// at a time from the server, the focused change field by field, selection (up to every change
// matching), approve / reject, conflict choices, keyboard shortcuts; live through staged.changed.
import { Alert, Button, Grid, Group, ScrollArea, Stack, Text } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { errorMessage } from "../api/client";
import type { StagedStatus } from "../api/types";
import { usePermissions } from "../auth/permissions";
import { ChangeDetail } from "../components/review/ChangeDetail";
import { ChangesTable } from "../components/review/ChangesTable";
import { DecisionBar } from "../components/review/DecisionBar";
import { ConfirmDecisionModal, ShortcutsModal } from "../components/review/ReviewModals";
import { ReviewFiltersBar } from "../components/review/ReviewFiltersBar";
import {
  ReviewEmpty,
  ReviewHeader,
  ReviewLoadError,
  ReviewLoading,
} from "../components/review/ReviewStates";
import { count } from "../format";
import { describeFilters, useReviewDecisions } from "../hooks/useReviewDecisions";
import { useReviewSelection } from "../hooks/useReviewSelection";
import { useReviewShortcuts } from "../hooks/useReviewShortcuts";
import {
  hasFilters,
  useReviewFilters,
  useStagedChanges,
  useStagedFacets,
} from "../hooks/useStagedChanges";
import { useSyncStatus } from "../hooks/useSyncStatus";

export function StagedChangesReview() {
  const { canApprove } = usePermissions();
  const { filters, setFilters, clearFilters } = useReviewFilters();
  const list = useStagedChanges(filters);
  const facets = useStagedFacets(filters);
  const status = useSyncStatus();
  const stores = status.data?.stores ?? [];
  const wide = useMediaQuery("(min-width: 75em)");
  const scope = JSON.stringify(filters);

  // The focus follows its change when the list moves around it (another reviewer's decision);
  // when the change leaves the list (decided here), the next one takes its place.
  const [focus, setFocus] = useState<{ id: number | null; index: number }>({ id: null, index: 0 });
  useEffect(() => setFocus({ id: null, index: 0 }), [scope]);
  const rows = list.rows;
  const byId = focus.id === null ? -1 : rows.findIndex((row) => row.id === focus.id);
  const focusedAt = byId >= 0 ? byId : Math.min(focus.index, Math.max(rows.length - 1, 0));
  const focused = rows[focusedAt];
  const focusAt = (index: number) => setFocus({ id: rows[index]?.id ?? null, index });

  const selection = useReviewSelection(scope);
  const decisions = useReviewDecisions({ filters, selection, focused });
  const [helpOpen, setHelpOpen] = useState(false);

  const storeName = useMemo(
    () => new Map(stores.map((store) => [store.store_id, store.name])),
    [stores],
  );
  const allLoadedSelected = rows.length > 0 && rows.every((row) => selection.isSelected(row.id));

  useReviewShortcuts(
    {
      next: () => {
        if (focusedAt < rows.length - 1) focusAt(focusedAt + 1);
        else if (list.hasNextPage && !list.isFetchingNextPage) void list.fetchNextPage();
      },
      previous: () => focusAt(Math.max(focusedAt - 1, 0)),
      toggle: () => canApprove && focused && selection.toggle(focused.id),
      approve: () => canApprove && !decisions.busy && decisions.decide("approve"),
      reject: () => canApprove && !decisions.busy && decisions.decide("reject"),
      help: () => setHelpOpen(true),
    },
    !helpOpen && decisions.pending === null,
  );

  const counts = status.data?.staged ?? {};
  const filtered = hasFilters(filters);
  const showStatus = (name: StagedStatus) => setFilters({ status: name, conflicts_only: false });

  let body: ReactNode;
  if (list.isPending) {
    body = <ReviewLoading />;
  } else if (list.isError && rows.length === 0) {
    body = <ReviewLoadError error={list.error} onRetry={() => void list.refetch()} />;
  } else if (rows.length === 0) {
    body = (
      <ReviewEmpty
        filtered={filtered}
        conflicts={counts.conflict ?? 0}
        showingConflicts={filters.status === "conflict" || filters.conflicts_only}
        onClear={clearFilters}
        onConflicts={() => showStatus("conflict")}
      />
    );
  } else {
    const paneHeight = wide ? "calc(100vh - 290px)" : "50vh";
    body = (
      <Grid gutter="sm">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack gap="xs">
            <ScrollArea.Autosize mah={paneHeight} type="auto" offsetScrollbars>
              <ChangesTable
                rows={rows}
                focused={focusedAt}
                onFocus={focusAt}
                selectable={canApprove}
                isSelected={selection.isSelected}
                onToggle={selection.toggle}
                allLoadedSelected={allLoadedSelected}
                someSelected={selection.count > 0}
                onToggleAll={() => selection.toggleAll(rows)}
              />
            </ScrollArea.Autosize>
            <Group justify="space-between" gap="xs">
              <Text size="sm" c="dimmed">
                Showing {rows.length.toLocaleString()} of {count(list.total, "change")}
              </Text>
              {list.hasNextPage && (
                <Button
                  size="xs"
                  variant="default"
                  loading={list.isFetchingNextPage}
                  onClick={() => void list.fetchNextPage()}
                >
                  Load more
                </Button>
              )}
            </Group>
            {list.isError && (
              <Alert color="red" variant="light" p="xs">
                {errorMessage(list.error)}
              </Alert>
            )}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          {focused && (
            <ScrollArea.Autosize mah={wide ? paneHeight : undefined} type="auto" offsetScrollbars>
              <ChangeDetail
                key={focused.id}
                change={focused}
                storeName={storeName.get(focused.store_id)}
                canApprove={canApprove}
                choices={decisions.choices[focused.id]}
                onChoose={(field, choice) => decisions.choose(focused.id, field, choice)}
                onApprove={() => decisions.decide("approve", focused)}
                onReject={() => decisions.decide("reject", focused)}
                busy={decisions.busy}
              />
            </ScrollArea.Autosize>
          )}
        </Grid.Col>
      </Grid>
    );
  }

  return (
    <Stack gap="sm">
      <ReviewHeader
        counts={counts}
        current={filters.status}
        refreshing={list.isFetching && !list.isPending}
        onStatus={showStatus}
        onHelp={() => setHelpOpen(true)}
      />
      <ReviewFiltersBar
        filters={filters}
        onChange={setFilters}
        onClear={clearFilters}
        vendors={facets.data?.vendors}
        productTypes={facets.data?.product_types}
        stores={stores}
        filtered={filtered}
      />
      {facets.isError && (
        <Text size="xs" c="red">
          The vendor and type menus could not be loaded: {errorMessage(facets.error)}
        </Text>
      )}
      {canApprove && rows.length > 0 && (
        <DecisionBar
          selected={selection.count}
          allMatching={selection.allMatching !== null}
          total={list.total}
          loaded={rows.length}
          allLoadedSelected={allLoadedSelected}
          onSelectAllMatching={() => selection.selectAllMatching(rows, list.total, list.maxId)}
          onClear={selection.clear}
          onApprove={() => decisions.decide("approve")}
          onReject={() => decisions.decide("reject")}
          busy={decisions.busy}
        />
      )}
      {body}
      <ShortcutsModal opened={helpOpen} onClose={() => setHelpOpen(false)} />
      <ConfirmDecisionModal
        pending={decisions.pending}
        filterWords={describeFilters(
          filters,
          filters.store_id === null ? undefined : storeName.get(filters.store_id),
        )}
        onConfirm={decisions.confirm}
        onCancel={decisions.cancel}
      />
    </Stack>
  );
}
