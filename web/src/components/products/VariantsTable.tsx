import { Table, Text } from "@mantine/core";
import type { Variant } from "../../api/products";
import { money } from "./ProductTable";

function stock(inventory: Record<string, number>): string {
  const entries = Object.entries(inventory);
  return entries.length ? entries.map(([where, n]) => `${where}: ${n}`).join(" · ") : "—";
}

export function VariantsTable({ variants }: { variants: Variant[] }) {
  if (variants.length === 0) return <Text c="dimmed">This product has no variants.</Text>;
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table striped verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>SKU</Table.Th>
            <Table.Th>Option</Table.Th>
            <Table.Th>Barcode</Table.Th>
            <Table.Th ta="right">Price</Table.Th>
            <Table.Th ta="right">Compare at</Table.Th>
            <Table.Th>Stock by location</Table.Th>
            <Table.Th>When out of stock</Table.Th>
            <Table.Th ta="right">Weight (g)</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {variants.map((variant) => (
            <Table.Tr key={variant.id}>
              <Table.Td ff="monospace">{variant.sku || "—"}</Table.Td>
              <Table.Td>
                {variant.option1_name}: {variant.option1_value}
              </Table.Td>
              <Table.Td>{variant.barcode || "—"}</Table.Td>
              <Table.Td ta="right">{money(variant.price)}</Table.Td>
              <Table.Td ta="right">{money(variant.compare_at_price)}</Table.Td>
              <Table.Td>{stock(variant.inventory)}</Table.Td>
              <Table.Td>
                {variant.inventory_policy === "continue" ? "Keep selling" : "Stop selling"}
              </Table.Td>
              <Table.Td ta="right">{variant.weight_grams ?? "—"}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
