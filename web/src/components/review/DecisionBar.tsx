// What is selected and what to do with it: approve or reject, with counts, and the step from
// "every loaded row" to "every change matching the filters".
import { Anchor, Button, Group, Paper, Text } from "@mantine/core";
import { count } from "../../format";

export function DecisionBar({
  selected,
  allMatching,
  total,
  loaded,
  allLoadedSelected,
  onSelectAllMatching,
  onClear,
  onApprove,
  onReject,
  busy,
}: {
  selected: number;
  allMatching: boolean;
  total: number;
  loaded: number;
  allLoadedSelected: boolean;
  onSelectAllMatching: () => void;
  onClear: () => void;
  onApprove: () => void;
  onReject: () => void;
  busy: boolean;
}) {
  const none = selected === 0;
  return (
    <Paper withBorder p="xs">
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Group gap="xs" wrap="wrap">
          <Text size="sm" fw={500} aria-live="polite">
            {none
              ? "Nothing selected"
              : allMatching
                ? `All ${count(total, "matching change")} selected`
                : `${count(selected, "change")} selected`}
          </Text>
          {!allMatching && total > 0 && !(allLoadedSelected && total === loaded) && (
            <Anchor component="button" type="button" size="sm" onClick={onSelectAllMatching}>
              Select all {total.toLocaleString()} matching
            </Anchor>
          )}
          {!none && (
            <Anchor component="button" type="button" size="sm" c="dimmed" onClick={onClear}>
              Clear selection
            </Anchor>
          )}
        </Group>
        <Group gap="xs">
          <Button size="xs" color="teal" disabled={none} loading={busy} onClick={onApprove}>
            Approve {none ? "" : selected.toLocaleString()}
          </Button>
          <Button
            size="xs"
            color="red"
            variant="light"
            disabled={none}
            loading={busy}
            onClick={onReject}
          >
            Reject {none ? "" : selected.toLocaleString()}
          </Button>
        </Group>
      </Group>
    </Paper>
  );
}
