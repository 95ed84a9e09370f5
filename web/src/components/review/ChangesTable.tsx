// The changes matching the filters, as far as they are loaded: one row each, the focused one
// highlighted (its details show beside the table), checkboxes for approvers.
import { Checkbox, Stack, Table, Text } from "@mantine/core";
import { useCallbackRef } from "@mantine/hooks";
import { memo, startTransition, useEffect, useRef, useState } from "react";
import type { StagedChange } from "../../api/review";
import { DirectionBadge, OperationBadge, StatusBadge } from "./badges";
import { summarize } from "./fields";

/** Rows rendered with the first paint of a list; the rest follow in a transition. A row is
 * some fifteen Mantine components, so a page of a hundred costs a few hundred milliseconds of
 * rendering on a slow machine, while the pane shows about ten: the first rows need not wait. */
export const FIRST_ROWS = 30;

export interface ChangesTableProps {
  rows: StagedChange[];
  focused: number;
  onFocus: (index: number) => void;
  selectable: boolean;
  isSelected: (id: number) => boolean;
  onToggle: (id: number) => void;
  allLoadedSelected: boolean;
  someSelected: boolean;
  onToggleAll: () => void;
}

export function ChangesTable({
  rows,
  focused,
  onFocus,
  selectable,
  isSelected,
  onToggle,
  allLoadedSelected,
  someSelected,
  onToggleAll,
}: ChangesTableProps) {
  const rowRefs = useRef<(HTMLTableRowElement | null)[]>([]);
  const rendered = useRenderedCount(rows.length, focused + 1);
  useEffect(() => {
    rowRefs.current[focused]?.scrollIntoView({ block: "nearest" });
  }, [focused]);
  // Stable across renders, so a focus or selection change re-renders only the rows it moves.
  const focusRow = useCallbackRef(onFocus);
  const toggleRow = useCallbackRef(onToggle);
  const setRowRef = useCallbackRef((index: number, element: HTMLTableRowElement | null) => {
    rowRefs.current[index] = element;
  });

  return (
    <Table
      highlightOnHover
      stickyHeader
      verticalSpacing={6}
      horizontalSpacing="xs"
      fz="sm"
      aria-label="Staged changes"
    >
      <Table.Thead>
        <Table.Tr>
          {selectable && (
            <Table.Th w={36}>
              <Checkbox
                aria-label="Select all loaded changes"
                checked={allLoadedSelected}
                indeterminate={someSelected && !allLoadedSelected}
                onChange={onToggleAll}
              />
            </Table.Th>
          )}
          <Table.Th>Product</Table.Th>
          <Table.Th w={150}>Change</Table.Th>
          <Table.Th w={110}>Status</Table.Th>
          <Table.Th>Fields</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.slice(0, rendered).map((row, index) => (
          <ChangeRow
            key={row.id}
            row={row}
            index={index}
            isFocused={index === focused}
            selectable={selectable}
            selected={isSelected(row.id)}
            onFocus={focusRow}
            onToggle={toggleRow}
            setRef={setRowRef}
          />
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** How many of `total` rows to render: FIRST_ROWS at first, all of them once React has time,
 * and never fewer than `atLeast` (the focused row must exist to scroll to it). */
function useRenderedCount(total: number, atLeast: number): number {
  const [count, setCount] = useState(FIRST_ROWS);
  useEffect(() => {
    if (count < total) startTransition(() => setCount(total));
  }, [count, total]);
  return Math.min(total, Math.max(count, atLeast));
}

interface ChangeRowProps {
  row: StagedChange;
  index: number;
  isFocused: boolean;
  selectable: boolean;
  selected: boolean;
  onFocus: (index: number) => void;
  onToggle: (id: number) => void;
  setRef: (index: number, element: HTMLTableRowElement | null) => void;
}

const ChangeRow = memo(function ChangeRow({
  row,
  index,
  isFocused,
  selectable,
  selected,
  onFocus,
  onToggle,
  setRef,
}: ChangeRowProps) {
  const fields = Object.keys(row.changes).length;
  return (
    <Table.Tr
      ref={(element) => setRef(index, element)}
      onClick={() => onFocus(index)}
      aria-current={isFocused ? "true" : undefined}
      data-change-id={row.id}
      style={{
        cursor: "pointer",
        background: isFocused ? "var(--mantine-color-blue-light)" : undefined,
        boxShadow: isFocused ? "inset 3px 0 0 var(--mantine-color-blue-filled)" : undefined,
      }}
    >
      {selectable && (
        <Table.Td onClick={(event) => event.stopPropagation()}>
          <Checkbox
            aria-label={`Select ${row.handle}`}
            checked={selected}
            onChange={() => {
              onToggle(row.id);
              onFocus(index);
            }}
          />
        </Table.Td>
      )}
      <Table.Td maw={260}>
        <Stack gap={0}>
          <Text size="sm" fw={500} lineClamp={1} title={row.title || row.handle}>
            {row.title || row.handle}
          </Text>
          <Text size="xs" c="dimmed" lineClamp={1}>
            {[row.handle, row.vendor].filter(Boolean).join(" · ")}
          </Text>
        </Stack>
      </Table.Td>
      <Table.Td>
        <Stack gap={2} align="flex-start">
          <OperationBadge operation={row.operation_type} />
          <DirectionBadge direction={row.direction} />
        </Stack>
      </Table.Td>
      <Table.Td>
        <StatusBadge status={row.status} />
      </Table.Td>
      <Table.Td maw={240}>
        <Text size="xs" lineClamp={2}>
          {row.operation_type === "create"
            ? `New product · ${fields} fields`
            : row.operation_type === "delete" && fields === 0
              ? "Whole product"
              : summarize(row.changes, row.conflict_fields)}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
});
