import type { ReactNode } from "react";
import { Anchor, Badge, Code, Group, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import type { ProductDetail } from "../../api/products";
import { StatusBadge, SyncStateBadge } from "./badges";
import { money } from "./ProductTable";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" fw={500} component="div">
        {children}
      </Text>
    </Stack>
  );
}

export function ProductHeader({ product }: { product: ProductDetail }) {
  return (
    <Stack gap="xs">
      <Anchor component={Link} to="/products" size="sm">
        ← Products
      </Anchor>
      <Group gap="sm" align="center">
        <Title order={2}>{product.title || product.handle}</Title>
        <StatusBadge status={product.status} />
        <SyncStateBadge state={product.sync_state} />
        {product.locked_fields.length > 0 && (
          <Badge color="violet" variant="light">
            {product.locked_fields.length} locked
          </Badge>
        )}
      </Group>
      <Group gap="xl" wrap="wrap">
        <Fact label="Handle">
          <Code>{product.handle}</Code>
        </Fact>
        <Fact label="SKU">{product.sku ?? "—"}</Fact>
        <Fact label="Price">{money(product.price)}</Fact>
        <Fact label="Stock">{product.inventory_total.toLocaleString()}</Fact>
        <Fact label="Vendor">{product.vendor || "—"}</Fact>
        <Fact label="Type">{product.product_type || "—"}</Fact>
      </Group>
    </Stack>
  );
}
