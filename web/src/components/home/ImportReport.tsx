import {
  Alert,
  Button,
  Group,
  Loader,
  Modal,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { errorMessage } from "../../api/client";
import {
  downloadErrorsCsv,
  MATCH_METHODS,
  type ImportDetail,
  type MatchMethod,
} from "../../api/imports";
import { ago } from "../../format";
import { useImport } from "../../hooks/useImports";
import { ImportStateBadge, sourceText } from "./ImportList";

const METHOD_LABELS: Record<MatchMethod, string> = {
  sku: "SKU",
  cws_a: "CWS_A",
  cws_catalog: "CWS_Catalog",
  sprc: "SPRC",
};

// A report's lists can hold thousands of rows; the page shows the first ones.
const SHOWN = 100;

function Figure({ label, value }: { label: string; value: number }) {
  return (
    <Stack gap={0} role="group" aria-label={`${label}: ${value}`}>
      <Text size="xs" c="dimmed" tt="uppercase">
        {label}
      </Text>
      <Text fw={700} size="lg">
        {value.toLocaleString()}
      </Text>
    </Stack>
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function Section<Row>({
  title,
  rows,
  total,
  empty,
  columns,
  cells,
}: {
  title: string;
  rows: Row[];
  total?: number;
  empty: string;
  columns: string[];
  cells: (row: Row) => ReactNode[];
}) {
  const all = total ?? rows.length;
  return (
    <Stack gap="xs">
      <Title order={5}>
        {title} ({all.toLocaleString()})
      </Title>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          {empty}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label={title} striped withTableBorder fz="sm">
            <Table.Thead>
              <Table.Tr>
                {columns.map((column) => (
                  <Table.Th key={column}>{column}</Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.slice(0, SHOWN).map((row, index) => (
                <Table.Tr key={index}>
                  {cells(row).map((cell, column) => (
                    <Table.Td key={column}>{cell}</Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {all > Math.min(rows.length, SHOWN) && (
        <Text size="sm" c="dimmed">
          Showing the first {Math.min(rows.length, SHOWN).toLocaleString()} of{" "}
          {all.toLocaleString()}.
        </Text>
      )}
    </Stack>
  );
}

function ReportBody({ record }: { record: ImportDetail }) {
  const download = useMutation({ mutationFn: () => downloadErrorsCsv(record) });
  const report = record.report;
  const etilize = record.kind === "etilize";
  return (
    <Stack>
      <Group gap="sm" wrap="wrap">
        <ImportStateBadge state={record.state} />
        <Text size="sm">{sourceText(record)}</Text>
        <Text size="sm" c="dimmed" title={record.finished_at ?? undefined}>
          {record.finished_at
            ? `finished ${ago(record.finished_at)}`
            : `started ${ago(record.started_at ?? record.created_at)}`}
        </Text>
      </Group>
      {record.report.skipped && (
        <Alert color="blue" title="Nothing to import">
          Skipped: {record.report.skipped}.
        </Alert>
      )}
      {record.state === "failed" && (
        <Alert color="red" title="The import failed and changed nothing">
          {record.error ?? "No reason was given."}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Figure label="Rows" value={record.rows} />
        <Figure label={etilize ? "Products" : "Items"} value={record.products} />
        {etilize && <Figure label="Matched" value={record.matched} />}
        {etilize && <Figure label="Unmatched" value={record.unmatched} />}
        {etilize && <Figure label="Duplicates" value={record.duplicates} />}
        <Figure label="Row errors" value={record.errors} />
        <Figure label="Created" value={record.created} />
        <Figure label="Updated" value={record.updated} />
        <Figure label="Unchanged" value={record.unchanged} />
        <Figure label="Locked fields kept" value={record.locked_conflicts} />
      </SimpleGrid>

      {etilize && (
        <Stack gap="xs">
          <Title order={5}>Matched by</Title>
          <Table aria-label="Matched by method" withTableBorder fz="sm" maw={360}>
            <Table.Tbody>
              {MATCH_METHODS.map((method) => (
                <Table.Tr key={method}>
                  <Table.Th scope="row">{METHOD_LABELS[method]}</Table.Th>
                  <Table.Td>{(report.methods?.[method] ?? 0).toLocaleString()}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      )}

      {etilize && (
        <Section
          title="Unmatched products"
          rows={report.unmatched ?? []}
          total={record.unmatched}
          empty="Every product matched a Xorosoft item."
          columns={["Row", "Handle", "SKU", "Title"]}
          cells={(u) => [u.row, u.handle, u.sku, u.title]}
        />
      )}

      {etilize && (
        <Section
          title="Duplicates"
          rows={report.duplicates ?? []}
          total={record.duplicates}
          empty="No two products matched the same item."
          columns={["Row", "Handle", "Xorosoft item", "Matched by", "Kept instead"]}
          cells={(d) => [d.row_number, d.handle, d.item_number, d.method, d.kept_handle]}
        />
      )}

      <Section
        title="Row errors"
        rows={record.row_errors}
        total={record.errors}
        empty="No row was rejected."
        columns={["Row", "Column", "Reason"]}
        cells={(e) => [e.row, e.column, e.reason]}
      />
      <Group>
        <Button
          variant="light"
          onClick={() => download.mutate()}
          loading={download.isPending}
          disabled={record.errors === 0}
        >
          Download errors.csv
        </Button>
      </Group>
      {download.error && <Alert color="red">{errorMessage(download.error)}</Alert>}

      <Section
        title="Locked fields the feed disagreed with"
        rows={report.locked ?? []}
        total={record.locked_conflicts}
        empty="No locked field differed from the feed."
        columns={["Product", "Field", "Feed value", "Kept value"]}
        cells={(l) => [l.handle, l.field, show(l.feed_value), show(l.kept_value)]}
      />
    </Stack>
  );
}

/** An import's report in a dialog: figures, matching, what was left out and why. */
export function ImportReport({
  importId,
  onClose,
}: {
  importId: number | null;
  onClose: () => void;
}) {
  const record = useImport(importId);
  return (
    <Modal
      opened={importId !== null}
      onClose={onClose}
      title={<Title order={4}>Report of import #{importId}</Title>}
      size="xl"
    >
      {record.isPending ? (
        <Loader aria-label="Loading the report" />
      ) : record.error ? (
        <Alert color="red">{errorMessage(record.error)}</Alert>
      ) : (
        <ReportBody record={record.data} />
      )}
    </Modal>
  );
}
