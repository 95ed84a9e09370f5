import { Anchor, Badge, Checkbox, Group, Table, Text, Tooltip } from "@mantine/core";
import { Link } from "react-router-dom";
import type { ProductSummary } from "../../api/products";
import { ago } from "../../format";
import { StatusBadge, SyncStateBadge } from "./badges";

interface Props {
  products: ProductSummary[];
  /** Row selection, for editors (viewers cannot start batches, so they get no checkboxes). */
  selection?: { selected: Set<number>; toggle: (ids: number[], on: boolean) => void };
}

export function money(amount: string | null): string {
  if (amount === null) return "—";
  const value = Number(amount);
  return Number.isFinite(value)
    ? value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    : amount;
}

export function ProductTable({ products, selection }: Props) {
  const ids = products.map((product) => product.id);
  const selectedHere = selection ? ids.filter((id) => selection.selected.has(id)).length : 0;
  return (
    <Table.ScrollContainer minWidth={1000}>
      <Table striped highlightOnHover verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            {selection && (
              <Table.Th w={36}>
                <Checkbox
                  aria-label="Select every product on this page"
                  checked={ids.length > 0 && selectedHere === ids.length}
                  indeterminate={selectedHere > 0 && selectedHere < ids.length}
                  onChange={(event) => selection.toggle(ids, event.currentTarget.checked)}
                />
              </Table.Th>
            )}
            <Table.Th>Product</Table.Th>
            <Table.Th>SKU</Table.Th>
            <Table.Th>Vendor</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th ta="right">Price</Table.Th>
            <Table.Th ta="right">Stock</Table.Th>
            <Table.Th>Sync</Table.Th>
            <Table.Th>Updated</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {products.map((product) => (
            <Table.Tr key={product.id}>
              {selection && (
                <Table.Td>
                  <Checkbox
                    aria-label={`Select ${product.title}`}
                    checked={selection.selected.has(product.id)}
                    onChange={(event) =>
                      selection.toggle([product.id], event.currentTarget.checked)
                    }
                  />
                </Table.Td>
              )}
              <Table.Td maw={320}>
                <Group gap={6} wrap="nowrap">
                  <Anchor component={Link} to={`/products/${product.id}`} size="sm" lineClamp={2}>
                    {product.title || product.handle}
                  </Anchor>
                  {product.locked_fields.length > 0 && (
                    <Tooltip
                      label={`Locked against imports: ${product.locked_fields.join(", ")}`}
                      withArrow
                    >
                      <Badge
                        size="xs"
                        color="violet"
                        variant="light"
                        style={{ flexShrink: 0 }}
                        aria-label={`${product.locked_fields.length} locked ${
                          product.locked_fields.length === 1 ? "field" : "fields"
                        }`}
                      >
                        {product.locked_fields.length} locked
                      </Badge>
                    </Tooltip>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace" style={{ whiteSpace: "nowrap" }}>
                  {product.sku ?? "—"}
                </Text>
              </Table.Td>
              <Table.Td>{product.vendor || "—"}</Table.Td>
              <Table.Td>{product.product_type || "—"}</Table.Td>
              <Table.Td miw={96}>
                <StatusBadge status={product.status} />
              </Table.Td>
              <Table.Td ta="right">{money(product.price)}</Table.Td>
              <Table.Td ta="right">{product.inventory_total.toLocaleString()}</Table.Td>
              <Table.Td miw={124}>
                <SyncStateBadge state={product.sync_state} />
              </Table.Td>
              <Table.Td>
                <Text size="sm" title={product.updated_at}>
                  {ago(product.updated_at)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
