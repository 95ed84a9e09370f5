import {
  Alert,
  Button,
  Group,
  Loader,
  Pagination,
  Paper,
  Select,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { errorMessage } from "../api/client";
import { PAGE_SIZES } from "../api/products";
import { usePermissions } from "../auth/permissions";
import { ProductFilterBar } from "../components/products/ProductFilterBar";
import { ProductTable } from "../components/products/ProductTable";
import { count } from "../format";
import {
  filtersToParams,
  hasFilters,
  useProductList,
  useProductListParams,
} from "../hooks/useProducts";

/** The catalog: search, filters in the URL, server pages; selected rows go to a batch. */
export function ProductsPage() {
  const { filters, page, pageSize, setFilters, setPage, setPageSize } = useProductListParams();
  const list = useProductList(filters, page, pageSize);
  const { canEdit } = usePermissions();
  const navigate = useNavigate();
  const [selected, setSelected] = useState<Set<number>>(new Set());

  const toggle = (ids: number[], on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  const total = list.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));

  return (
    <Stack>
      <Group justify="space-between" align="baseline">
        <Title order={2}>Products</Title>
        {list.data && (
          <Text c="dimmed" size="sm">
            {count(total, "product")}
            {hasFilters(filters) ? " match" : " in the catalog"}
          </Text>
        )}
      </Group>
      <ProductFilterBar filters={filters} onChange={setFilters} />

      {canEdit && (selected.size > 0 || (hasFilters(filters) && total > 0)) && (
        <Paper withBorder p="xs">
          <Group justify="space-between" gap="xs">
            <Text size="sm">
              {selected.size > 0
                ? `${count(selected.size, "product")} selected`
                : "No rows selected"}
            </Text>
            <Group gap="xs">
              {selected.size > 0 && (
                <>
                  <Button size="xs" variant="default" onClick={() => setSelected(new Set())}>
                    Clear selection
                  </Button>
                  <Button
                    size="xs"
                    onClick={() => navigate(`/batch?ids=${[...selected].join(",")}`)}
                  >
                    Batch edit selected
                  </Button>
                </>
              )}
              {hasFilters(filters) && total > 0 && (
                <Button
                  size="xs"
                  variant="light"
                  component={Link}
                  to={`/batch?${filtersToParams(filters, new URLSearchParams({ mode: "filter" }))}`}
                >
                  Batch edit all {total.toLocaleString()} matching
                </Button>
              )}
            </Group>
          </Group>
        </Paper>
      )}

      {list.isPending ? (
        <Group>
          <Loader size="sm" />
          <Text size="sm">Loading products…</Text>
        </Group>
      ) : list.error ? (
        <Alert color="red" title="The products could not be loaded">
          {errorMessage(list.error)}
        </Alert>
      ) : list.data.items.length === 0 ? (
        <Alert color="gray" title={hasFilters(filters) ? "No products match" : "No products yet"}>
          {hasFilters(filters)
            ? "Nothing matches these filters. Change or clear them to see more."
            : "The catalog is empty. Import the Etilize feed and the Xorosoft stock to add products."}
        </Alert>
      ) : (
        <>
          <ProductTable
            products={list.data.items}
            {...(canEdit ? { selection: { selected, toggle } } : {})}
          />
          <Group justify="space-between">
            <Pagination
              total={pages}
              value={Math.min(page, pages)}
              onChange={setPage}
              size="sm"
              getControlProps={(control) => ({ "aria-label": `${control} page` })}
            />
            <Group gap="xs">
              <Text size="sm" c="dimmed">
                Per page
              </Text>
              <Select
                aria-label="Products per page"
                data={PAGE_SIZES.map(String)}
                value={String(pageSize)}
                onChange={(value) => value && setPageSize(Number(value))}
                w={90}
                size="xs"
                allowDeselect={false}
              />
            </Group>
          </Group>
          {list.isFetching && list.isPlaceholderData && <Loader size="xs" />}
        </>
      )}
    </Stack>
  );
}
