import {
  Alert,
  Badge,
  Button,
  Loader,
  Progress,
  Stack,
  Table,
  Text,
  VisuallyHidden,
} from "@mantine/core";
import { errorMessage } from "../../api/client";
import {
  isImportActive,
  type ImportKind,
  type ImportRecord,
  type ImportState,
} from "../../api/imports";
import { ago, count } from "../../format";
import { useImports } from "../../hooks/useImports";

const STATE_COLORS: Record<ImportState, string> = {
  queued: "gray",
  running: "blue",
  completed: "green",
  failed: "red",
  cancelled: "gray",
};

export function ImportStateBadge({ state }: { state: ImportState }) {
  return (
    <Badge color={STATE_COLORS[state] ?? "gray"} variant="light">
      {state}
    </Badge>
  );
}

export function sourceText(record: ImportRecord): string {
  if (record.source === "ftp") return "FTP";
  if (record.source === "api") return "Xorosoft API";
  return record.filename || "uploaded file";
}

/** The figures a person looks at first, in words. */
export function importFigures(record: ImportRecord): string {
  if (record.state === "failed") return record.error ?? "Failed.";
  if (record.state === "queued") return "Waiting to start.";
  if (record.report.skipped) return `Skipped: ${record.report.skipped}.`;
  if (record.state === "running") {
    return `Reading: ${count(record.rows, "row")}, ${count(record.products, "product")} so far`;
  }
  if (record.kind === "etilize") {
    return [
      `${record.matched.toLocaleString()} matched`,
      `${record.unmatched.toLocaleString()} unmatched`,
      count(record.duplicates, "duplicate"),
      count(record.errors, "row error"),
    ].join(", ");
  }
  return [
    count(record.products, "item"),
    `${count(record.updated, "product")} updated`,
    count(record.errors, "row error"),
  ].join(", ");
}

/** The latest imports of one kind, their state live, each with its report. */
export function ImportList({
  kind,
  onOpenReport,
}: {
  kind: ImportKind;
  onOpenReport: (importId: number) => void;
}) {
  const imports = useImports(kind);
  if (imports.isPending) return <Loader size="sm" aria-label="Loading imports" />;
  if (imports.error) return <Alert color="red">{errorMessage(imports.error)}</Alert>;
  if (imports.data.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No imports yet.
      </Text>
    );
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table aria-label={`${kind === "etilize" ? "Etilize" : "Xorosoft"} imports`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Import</Table.Th>
            <Table.Th>Started</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Result</Table.Th>
            <Table.Th>
              <VisuallyHidden>Report</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {imports.data.map((record) => (
            <Table.Tr key={record.import_id}>
              <Table.Td>#{record.import_id}</Table.Td>
              <Table.Td title={record.started_at ?? record.created_at}>
                {ago(record.started_at ?? record.created_at)}
              </Table.Td>
              <Table.Td>{sourceText(record)}</Table.Td>
              <Table.Td miw={110}>
                <Stack gap={4}>
                  <ImportStateBadge state={record.state} />
                  {isImportActive(record) && (
                    <Progress
                      value={100}
                      striped
                      animated
                      aria-label={`Import ${record.import_id} in progress`}
                    />
                  )}
                </Stack>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{importFigures(record)}</Text>
              </Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant="default"
                  onClick={() => onOpenReport(record.import_id)}
                  aria-label={`Report of import #${record.import_id}`}
                >
                  Report
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
