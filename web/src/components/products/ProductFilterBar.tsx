import { Button, Group, Select, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useState } from "react";
import {
  PRODUCT_STATUSES,
  SYNC_STATES,
  type ProductFilters,
  type SyncState,
} from "../../api/products";
import { hasFilters, useProductFacets } from "../../hooks/useProducts";
import { useStores } from "../../hooks/useSyncStatus";
import { SYNC_LABELS } from "./badges";

const SEARCH_DEBOUNCE_MS = 300;

interface Props {
  filters: ProductFilters;
  onChange: (change: Partial<ProductFilters>) => void;
}

/** Search (debounced) and the list's filters. Pick lists come from the live catalog. */
export function ProductFilterBar({ filters, onChange }: Props) {
  const facets = useProductFacets();
  const { stores } = useStores();
  const [text, setText] = useState(filters.query);
  const [debounced] = useDebouncedValue(text, SEARCH_DEBOUNCE_MS);

  // The URL changed from elsewhere (Back, "Clear filters"): the box follows it.
  useEffect(() => setText(filters.query), [filters.query]);
  useEffect(() => {
    if (debounced !== filters.query) onChange({ query: debounced });
  }, [debounced]); // only a settled text is sent: not on every change of `onChange`

  const statuses = [...new Set([...PRODUCT_STATUSES, ...(facets.data?.statuses ?? [])])];
  return (
    <Group align="flex-end" gap="sm" wrap="wrap">
      <TextInput
        label="Search products"
        placeholder="Title, SKU, handle or vendor"
        value={text}
        onChange={(event) => setText(event.currentTarget.value)}
        w={260}
      />
      <Select
        label="Status"
        placeholder="Any"
        data={statuses}
        value={filters.status}
        onChange={(value) => onChange({ status: value })}
        clearable
        w={130}
      />
      <Select
        label="Vendor"
        placeholder={facets.isPending ? "Loading…" : "Any"}
        data={facets.data?.vendors ?? []}
        value={filters.vendor}
        onChange={(value) => onChange({ vendor: value })}
        searchable
        clearable
        nothingFoundMessage="No such vendor"
        w={170}
      />
      <Select
        label="Product type"
        placeholder={facets.isPending ? "Loading…" : "Any"}
        data={facets.data?.product_types ?? []}
        value={filters.product_type}
        onChange={(value) => onChange({ product_type: value })}
        searchable
        clearable
        nothingFoundMessage="No such type"
        w={170}
      />
      <Select
        label="Sync status"
        placeholder="Any"
        data={SYNC_STATES.map((state) => ({ value: state, label: SYNC_LABELS[state] }))}
        value={filters.sync_status}
        onChange={(value) => onChange({ sync_status: (value as SyncState | null) ?? null })}
        clearable
        w={190}
      />
      {stores.length > 1 && (
        <Select
          label="Store"
          placeholder="All active stores"
          data={stores.map((store) => ({ value: String(store.store_id), label: store.name }))}
          value={filters.store_id === null ? null : String(filters.store_id)}
          onChange={(value) => onChange({ store_id: value === null ? null : Number(value) })}
          clearable
          w={170}
        />
      )}
      {hasFilters(filters) && (
        <Button
          variant="subtle"
          onClick={() => {
            setText("");
            onChange({
              query: "",
              status: null,
              vendor: null,
              product_type: null,
              sync_status: null,
              store_id: null,
            });
          }}
        >
          Clear filters
        </Button>
      )}
    </Group>
  );
}
