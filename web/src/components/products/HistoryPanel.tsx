import { Alert, Badge, Button, Card, Group, Loader, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import type { Version } from "../../api/products";
import { useAuth } from "../../auth/context";
import { ago } from "../../format";
import { useProductHistory } from "../../hooks/useProduct";
import { fieldLabel } from "../../fieldLabels";
import { describeOrigin, formatValue } from "./values";

const SHOWN_AT_FIRST = 10;
const SOURCE_COLORS: Record<string, string> = {
  etilize: "blue",
  xorosoft: "cyan",
  user: "violet",
  shopify: "green",
};

function Diff({ version }: { version: Version }) {
  return (
    <Table.ScrollContainer minWidth={520}>
      <Table verticalSpacing={4} aria-label={`Changes of version ${version.version}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w="20%">Field</Table.Th>
            <Table.Th w="40%">Before</Table.Th>
            <Table.Th w="40%">After</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {Object.entries(version.changes).map(([field, [before, after]]) => (
            <Table.Tr key={field}>
              <Table.Td fw={500}>{fieldLabel(field)}</Table.Td>
              <Table.Td>
                <Text
                  size="sm"
                  c="red.8"
                  td="line-through"
                  lineClamp={4}
                  title={formatValue(before, field)}
                >
                  {formatValue(before, field)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c="green.8" lineClamp={4} title={formatValue(after, field)}>
                  {formatValue(after, field)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Every version, newest first, with what each changed, field by field. */
export function HistoryPanel({ productId, active }: { productId: number; active: boolean }) {
  const history = useProductHistory(productId, active);
  const me = useAuth().session?.user.id;
  const [showAll, setShowAll] = useState(false);

  if (history.isPending) return <Loader size="sm" aria-label="Loading the history" />;
  if (history.error)
    return (
      <Alert color="red" title="The history could not be loaded">
        {errorMessage(history.error)}
      </Alert>
    );
  if (history.data.length === 0) return <Text c="dimmed">No versions recorded yet.</Text>;
  const versions = showAll ? history.data : history.data.slice(0, SHOWN_AT_FIRST);
  return (
    <Stack gap="sm">
      {versions.map((version) => (
        <Card key={version.version} withBorder padding="sm" data-version={version.version}>
          <Stack gap={6}>
            <Group gap="xs">
              <Text fw={600} size="sm">
                Version {version.version}
              </Text>
              <Badge color={SOURCE_COLORS[version.source] ?? "gray"} variant="light">
                {describeOrigin(version, me)}
              </Badge>
              <Text size="sm" c="dimmed" title={version.created_at}>
                {ago(version.created_at)}
              </Text>
            </Group>
            <Diff version={version} />
          </Stack>
        </Card>
      ))}
      {history.data.length > SHOWN_AT_FIRST && (
        <Button variant="subtle" onClick={() => setShowAll(!showAll)}>
          {showAll ? "Show the latest only" : `Show all ${history.data.length} versions`}
        </Button>
      )}
    </Stack>
  );
}
