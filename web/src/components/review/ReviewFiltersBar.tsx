// The review's filters. Each one writes the URL (see useReviewFilters); the search box waits
// for a pause in typing so that every key does not start a query.
import { Button, Group, Select, Switch, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { useEffect, useState } from "react";
import {
  DIRECTIONS,
  OPERATIONS,
  type Direction,
  type Facet,
  type Operation,
  type ReviewFilters,
} from "../../api/review";
import { STAGED_STATUSES, type StagedStatus, type StoreSyncStatus } from "../../api/types";
import { DEFAULT_STATUS } from "../../hooks/useStagedChanges";

const ANY = "any";

function facetOptions(facets: Facet[] | undefined, current: string | null) {
  const options = (facets ?? []).map((facet) => ({
    value: facet.value,
    label: `${facet.value} (${facet.count.toLocaleString()})`,
  }));
  // A value from a link that matches nothing now still shows as chosen.
  if (current && !options.some((option) => option.value === current))
    options.unshift({ value: current, label: `${current} (0)` });
  return options;
}

export function ReviewFiltersBar({
  filters,
  onChange,
  onClear,
  vendors,
  productTypes,
  stores,
  filtered,
}: {
  filters: ReviewFilters;
  onChange: (change: Partial<ReviewFilters>) => void;
  onClear: () => void;
  vendors: Facet[] | undefined;
  productTypes: Facet[] | undefined;
  stores: StoreSyncStatus[];
  filtered: boolean;
}) {
  const [search, setSearch] = useState(filters.query);
  const commitSearch = useDebouncedCallback((query: string) => onChange({ query }), 300);
  // A reload, Back or "Clear filters" changes the URL: the box follows it.
  useEffect(() => setSearch(filters.query), [filters.query]);

  return (
    <Group gap="sm" align="flex-end" wrap="wrap">
      <TextInput
        label="Search"
        placeholder="Title, handle or SKU"
        value={search}
        onChange={(event) => {
          setSearch(event.currentTarget.value);
          commitSearch(event.currentTarget.value);
        }}
        onKeyDown={(event) => {
          if (event.key === "Enter") onChange({ query: search });
          if (event.key === "Escape") event.currentTarget.blur();
        }}
        w={200}
      />
      <Select
        label="Status"
        data={[
          { value: ANY, label: "Any status" },
          ...STAGED_STATUSES.map((s) => ({ value: s, label: s })),
        ]}
        value={filters.status ?? ANY}
        onChange={(value) =>
          onChange({ status: value === ANY || value === null ? null : (value as StagedStatus) })
        }
        allowDeselect={false}
        w={130}
      />
      <Select
        label="Direction"
        data={[
          { value: ANY, label: "Both ways" },
          ...DIRECTIONS.map((d) => ({
            value: d,
            label: d === "push" ? "To Shopify" : "From Shopify",
          })),
        ]}
        value={filters.direction ?? ANY}
        onChange={(value) =>
          onChange({ direction: value === ANY || value === null ? null : (value as Direction) })
        }
        allowDeselect={false}
        w={140}
      />
      <Select
        label="Operation"
        data={[
          { value: ANY, label: "Any operation" },
          ...OPERATIONS.map((o) => ({ value: o, label: o })),
        ]}
        value={filters.operation_type ?? ANY}
        onChange={(value) =>
          onChange({
            operation_type: value === ANY || value === null ? null : (value as Operation),
          })
        }
        allowDeselect={false}
        w={150}
      />
      <Select
        label="Vendor"
        placeholder="Any vendor"
        data={facetOptions(vendors, filters.vendor)}
        value={filters.vendor}
        onChange={(value) => onChange({ vendor: value })}
        searchable
        clearable
        nothingFoundMessage="No vendor among these changes"
        w={170}
      />
      <Select
        label="Type"
        placeholder="Any type"
        data={facetOptions(productTypes, filters.product_type)}
        value={filters.product_type}
        onChange={(value) => onChange({ product_type: value })}
        searchable
        clearable
        nothingFoundMessage="No product type among these changes"
        w={170}
      />
      {stores.length > 1 && (
        <Select
          label="Store"
          placeholder="Every store"
          data={stores.map((store) => ({ value: String(store.store_id), label: store.name }))}
          value={filters.store_id === null ? null : String(filters.store_id)}
          onChange={(value) => onChange({ store_id: value === null ? null : Number(value) })}
          clearable
          w={150}
        />
      )}
      <Switch
        label="Conflicts only"
        checked={filters.conflicts_only}
        onChange={(event) => {
          // A conflict is a status of its own: "conflicts only" among pending ones is nothing.
          const on = event.currentTarget.checked;
          onChange({ conflicts_only: on, status: on ? null : DEFAULT_STATUS });
        }}
        mb={8}
      />
      {filtered && (
        <Button variant="subtle" size="sm" onClick={onClear}>
          Clear filters
        </Button>
      )}
    </Group>
  );
}
