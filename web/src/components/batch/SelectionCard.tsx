import {
  Alert,
  Anchor,
  Card,
  Group,
  Loader,
  SegmentedControl,
  Stack,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { Link } from "react-router-dom";
import { errorMessage } from "../../api/client";
import { count } from "../../format";
import type { BatchSelection, SelectionMode } from "../../hooks/useBatchForm";
import { hasFilters } from "../../hooks/useProducts";
import { ProductFilterBar } from "../products/ProductFilterBar";

const MISSING_SHOWN = 20;

function SkuResult({ selection }: { selection: BatchSelection }) {
  const { lookup, skus, skuText } = selection;
  if (!skuText.trim()) return null;
  if (lookup.isFetching || (selection.selected === null && !selection.problem))
    return (
      <Group gap="xs">
        <Loader size="xs" />
        <Text size="sm">Looking up {count(skus.length, "SKU")}…</Text>
      </Group>
    );
  if (lookup.error)
    return (
      <Alert color="red" title="The SKUs could not be checked">
        {errorMessage(lookup.error)}
      </Alert>
    );
  if (!lookup.data) return null;
  const { found, missing, missing_total } = lookup.data;
  return (
    <Stack gap={4} aria-live="polite">
      <Text size="sm" fw={500} c={found ? "green.8" : "red.8"}>
        {found.toLocaleString()} of {count(skus.length, "SKU")} found in the catalog
      </Text>
      {missing_total > 0 && (
        <Text size="sm" c="orange.8">
          Not found ({missing_total.toLocaleString()}): {missing.slice(0, MISSING_SHOWN).join(", ")}
          {missing_total > MISSING_SHOWN
            ? ` and ${(missing_total - MISSING_SHOWN).toLocaleString()} more`
            : ""}
          . They are left out of the batch.
        </Text>
      )}
    </Stack>
  );
}

/** Which products: those chosen on the Products page, a filter, or pasted SKUs. */
export function SelectionCard({ selection }: { selection: BatchSelection }) {
  const { mode, ids, filters, matches } = selection;
  const modes = [
    ...(ids.length ? [{ value: "ids", label: `Selected (${ids.length})` }] : []),
    { value: "skus", label: "Paste SKUs" },
    { value: "filter", label: "By filter" },
  ];
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>1. Choose the products</Title>
        <SegmentedControl
          aria-label="How to choose the products"
          data={modes}
          value={mode}
          onChange={(value) => selection.setMode(value as SelectionMode)}
        />
        {mode === "ids" && (
          <Text size="sm">
            {count(ids.length, "product")} chosen on the Products page.{" "}
            <Anchor component={Link} to="/products" size="sm">
              Change the selection
            </Anchor>
          </Text>
        )}
        {mode === "skus" && (
          <>
            <Textarea
              label="SKUs"
              description="One per line, or separated by commas: straight from a spreadsheet."
              placeholder={"ACM-1001\nACM-1002"}
              autosize
              minRows={4}
              maxRows={10}
              value={selection.skuText}
              onChange={(event) => selection.setSkuText(event.currentTarget.value)}
            />
            <SkuResult selection={selection} />
          </>
        )}
        {mode === "filter" && (
          <>
            <ProductFilterBar
              filters={filters}
              onChange={(change) => selection.setFilters((current) => ({ ...current, ...change }))}
            />
            {matches.isPending ? (
              <Loader size="xs" />
            ) : matches.error ? (
              <Alert color="red">{errorMessage(matches.error)}</Alert>
            ) : (
              <Text size="sm" fw={500} aria-live="polite">
                {count(matches.data, "product")} match
                {hasFilters(filters) ? "" : " — no filter: that is the whole catalog"}
              </Text>
            )}
          </>
        )}
      </Stack>
    </Card>
  );
}
