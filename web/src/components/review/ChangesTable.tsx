// The changes matching the filters, as far as they are loaded: one row each, the focused one
// highlighted (its details show beside the table), checkboxes for approvers.
import { Checkbox, Stack, Table, Text } from "@mantine/core";
import { useEffect, useRef } from "react";
import type { StagedChange } from "../../api/review";
import { DirectionBadge, OperationBadge, StatusBadge } from "./badges";
import { summarize } from "./fields";

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
  useEffect(() => {
    rowRefs.current[focused]?.scrollIntoView({ block: "nearest" });
  }, [focused]);

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
        {rows.map((row, index) => {
          const isFocused = index === focused;
          const fields = Object.keys(row.changes).length;
          return (
            <Table.Tr
              key={row.id}
              ref={(element) => {
                rowRefs.current[index] = element;
              }}
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
                    checked={isSelected(row.id)}
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
        })}
      </Table.Tbody>
    </Table>
  );
}
