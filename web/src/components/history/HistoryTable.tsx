import { ActionIcon, Badge, Table, Text } from "@mantine/core";
import { Fragment } from "react";
import type { SyncHistoryItem } from "../../api/push";
import { ago } from "../../format";
import { duration, stateBadge, whole } from "../push/format";
import { HistoryDetails } from "./HistoryDetails";

function seconds(row: SyncHistoryItem): number | null {
  if (!row.completed_at) return null;
  return (new Date(row.completed_at).getTime() - new Date(row.started_at).getTime()) / 1000;
}

function cost(row: SyncHistoryItem): string {
  const requests = row.performance_metrics.requests;
  const points = row.performance_metrics.points;
  if (typeof requests !== "number") return "—";
  return `${whole(requests)} req · ${typeof points === "number" ? whole(points) : "—"} pts`;
}

interface Props {
  rows: SyncHistoryItem[];
  storeName: (id: number | null) => string;
  open: Set<number>;
  onToggle: (id: number) => void;
}

/** Past pulls and pushes, each opening onto its figures and errors. */
export function HistoryTable({ rows, storeName, open, onToggle }: Props) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table highlightOnHover aria-label="Sync history">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={40} />
            <Table.Th>Started</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Store</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th ta="right">Changes</Table.Th>
            <Table.Th ta="right">Failed</Table.Th>
            <Table.Th ta="right">Took</Table.Th>
            <Table.Th ta="right">Cost</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => {
            const expanded = open.has(row.id);
            const badge = stateBadge(row.status);
            const label = `${row.direction === "push" ? "Push" : "Pull"} #${row.sync_job_id ?? row.id}`;
            return (
              <Fragment key={row.id}>
                <Table.Tr
                  data-testid="history-row"
                  onClick={() => onToggle(row.id)}
                  style={{ cursor: "pointer" }}
                >
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      aria-expanded={expanded}
                      aria-label={`${expanded ? "Hide" : "Show"} details of ${label}`}
                      onClick={(event) => {
                        event.stopPropagation();
                        onToggle(row.id);
                      }}
                    >
                      {expanded ? "▾" : "▸"}
                    </ActionIcon>
                  </Table.Td>
                  <Table.Td title={row.started_at}>{ago(row.started_at)}</Table.Td>
                  <Table.Td>
                    <Badge variant="outline" color={row.direction === "push" ? "blue" : "grape"}>
                      {label}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{storeName(row.store_id)}</Table.Td>
                  <Table.Td>
                    <Badge color={badge.color} variant="light">
                      {badge.label}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="right">
                    {whole(row.succeeded_items)} / {whole(row.total_items)}
                  </Table.Td>
                  <Table.Td ta="right">
                    <Text span size="sm" c={row.failed_items > 0 ? "red" : "dimmed"}>
                      {whole(row.failed_items)}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right">{duration(seconds(row))}</Table.Td>
                  <Table.Td ta="right">{cost(row)}</Table.Td>
                </Table.Tr>
                {expanded && (
                  <Table.Tr>
                    <Table.Td colSpan={9}>
                      <HistoryDetails row={row} />
                    </Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
