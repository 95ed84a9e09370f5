// The review's header and what it shows instead of the list: loading, a failure with a retry,
// and nothing to show (with the way out: clear the filters, or go to the conflicts).
import {
  Alert,
  Badge,
  Button,
  Group,
  Loader,
  Stack,
  Text,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { errorMessage } from "../../api/client";
import type { StagedCounts, StagedStatus } from "../../api/types";
import { count } from "../../format";
import { STATUS_COLORS } from "./badges";

const SHORTCUT_STATUSES: StagedStatus[] = ["pending", "conflict", "approved"];

export function ReviewHeader({
  counts,
  current,
  refreshing,
  onStatus,
  onHelp,
}: {
  counts: StagedCounts;
  current: StagedStatus | null;
  refreshing: boolean;
  onStatus: (status: StagedStatus) => void;
  onHelp: () => void;
}) {
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Group gap="sm">
        <Title order={2}>Review changes</Title>
        {refreshing && <Loader size="xs" aria-label="Refreshing" />}
      </Group>
      <Group gap="xs">
        {SHORTCUT_STATUSES.map((name) => {
          const n = (counts[name] ?? 0).toLocaleString();
          return (
            <UnstyledButton
              key={name}
              onClick={() => onStatus(name)}
              aria-label={`Show ${name} changes (${n})`}
            >
              <Badge variant={current === name ? "filled" : "light"} color={STATUS_COLORS[name]}>
                {name}: {n}
              </Badge>
            </UnstyledButton>
          );
        })}
        <Button size="xs" variant="subtle" onClick={onHelp}>
          Keyboard shortcuts (?)
        </Button>
      </Group>
    </Group>
  );
}

export function ReviewLoading() {
  return (
    <Group gap="xs">
      <Loader size="sm" />
      <Text size="sm">Loading changes…</Text>
    </Group>
  );
}

export function ReviewLoadError({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  return (
    <Alert color="red" title="Could not load the staged changes">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{errorMessage(error)}</Text>
        <Button size="xs" variant="light" color="red" onClick={onRetry}>
          Try again
        </Button>
      </Stack>
    </Alert>
  );
}

export function ReviewEmpty({
  filtered,
  conflicts,
  showingConflicts,
  onClear,
  onConflicts,
}: {
  filtered: boolean;
  conflicts: number;
  showingConflicts: boolean;
  onClear: () => void;
  onConflicts: () => void;
}) {
  return (
    <Alert color={filtered ? "gray" : "green"} variant="light">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">
          {filtered
            ? "No staged changes match these filters."
            : "Nothing waiting for review: all caught up."}
        </Text>
        {filtered && (
          <Button size="xs" variant="light" onClick={onClear}>
            Clear filters
          </Button>
        )}
        {conflicts > 0 && !showingConflicts && (
          <Button size="xs" variant="light" color="orange" onClick={onConflicts}>
            {count(conflicts, "conflict")} need{conflicts === 1 ? "s" : ""} a decision
          </Button>
        )}
      </Stack>
    </Alert>
  );
}
