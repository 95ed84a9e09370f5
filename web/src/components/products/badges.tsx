import { Badge, Tooltip } from "@mantine/core";
import type { SyncState } from "../../api/products";

const SYNC: Record<SyncState, { color: string; label: string; hint: string }> = {
  conflict: {
    color: "orange",
    label: "Conflict",
    hint: "Changed in the catalog and in Shopify: someone has to decide.",
  },
  pending: {
    color: "blue",
    label: "Pending",
    hint: "A change waits for review or for the next push.",
  },
  synced: { color: "green", label: "Synced", hint: "Shopify shows the catalog's values." },
  never_synced: { color: "gray", label: "Never synced", hint: "Not in Shopify yet." },
};

export const SYNC_LABELS: Record<SyncState, string> = {
  conflict: SYNC.conflict.label,
  pending: "Pending (incl. conflicts)",
  synced: SYNC.synced.label,
  never_synced: SYNC.never_synced.label,
};

export function SyncStateBadge({ state }: { state: SyncState }) {
  const { color, label, hint } = SYNC[state];
  return (
    <Tooltip label={hint} withArrow>
      <Badge color={color} variant="light">
        {label}
      </Badge>
    </Tooltip>
  );
}

const STATUS_COLORS: Record<string, string> = {
  active: "green",
  draft: "yellow",
  archived: "gray",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? "gray"} variant="outline">
      {status}
    </Badge>
  );
}
