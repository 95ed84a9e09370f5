import { Table, Text } from "@mantine/core";
import type { Specification } from "../../api/products";
import { formatValue } from "./values";

export function SpecificationsTable({ specifications }: { specifications: Specification[] }) {
  if (specifications.length === 0)
    return <Text c="dimmed">This product has no specifications.</Text>;
  return (
    <Table.ScrollContainer minWidth={520}>
      <Table striped verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Specification</Table.Th>
            <Table.Th>Value</Table.Th>
            <Table.Th>Namespace</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {specifications.map((spec) => (
            <Table.Tr key={`${spec.namespace}.${spec.key}`}>
              <Table.Td fw={500}>{spec.key}</Table.Td>
              <Table.Td>{formatValue(spec.value)}</Table.Td>
              <Table.Td>
                <Text size="xs" c="dimmed">
                  {spec.namespace}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
