import {
  Alert,
  Autocomplete,
  Card,
  Checkbox,
  Group,
  NumberInput,
  Radio,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  Title,
} from "@mantine/core";
import type { ExportFormat, Operation } from "../../api/batch";
import { PRODUCT_STATUSES } from "../../api/products";
import { usePermissions } from "../../auth/permissions";
import type { OperationForm } from "../../hooks/useBatchForm";
import { useProductFacets } from "../../hooks/useProducts";

interface Props {
  form: OperationForm;
  onChange: (change: Partial<OperationForm>) => void;
}

/** What to do: update (status, tags, vendor, type, prices), delete, or export (CSV, XLSX).
 * Pushing the result to Shopify approves it, so only approvers see that option. */
export function OperationCard({ form, onChange }: Props) {
  const { canApprove } = usePermissions();
  const facets = useProductFacets();
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>2. Choose what to do</Title>
        <SegmentedControl
          aria-label="Operation"
          data={[
            { value: "update", label: "Update" },
            { value: "delete", label: "Delete" },
            { value: "export", label: "Export" },
          ]}
          value={form.operation}
          onChange={(value) => onChange({ operation: value as Operation })}
        />
        {form.operation === "update" && (
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
            <Select
              label="Set status"
              placeholder="Keep as is"
              data={[...PRODUCT_STATUSES]}
              value={form.status}
              onChange={(value) => onChange({ status: value })}
              clearable
            />
            <NumberInput
              label="Adjust prices by %"
              description="-10 lowers by 10 %; rounded to cents"
              placeholder="No change"
              value={form.pricePercent}
              onChange={(value) => onChange({ pricePercent: value })}
              min={-100}
              max={1000}
              decimalScale={2}
              suffix=" %"
            />
            <TagsInput
              label="Add tags"
              description="Press Enter after each tag"
              value={form.tags}
              onChange={(tags) => onChange({ tags })}
              clearable
            />
            <TagsInput
              label="Remove tags"
              description="Press Enter after each tag"
              value={form.tagsRemove}
              onChange={(tagsRemove) => onChange({ tagsRemove })}
              clearable
            />
            <Autocomplete
              label="Set vendor"
              placeholder="Keep as is"
              data={facets.data?.vendors ?? []}
              value={form.vendor}
              onChange={(vendor) => onChange({ vendor })}
            />
            <Autocomplete
              label="Set product type"
              placeholder="Keep as is"
              data={facets.data?.product_types ?? []}
              value={form.productType}
              onChange={(productType) => onChange({ productType })}
            />
          </SimpleGrid>
        )}
        {form.operation === "update" && (
          <Text size="xs" c="dimmed">
            Each changed field is saved as a person's edit: versioned, and locked against the feeds.
          </Text>
        )}
        {form.operation === "delete" && (
          <Alert color="red" variant="light" title="Delete">
            The products leave the catalog and every list. Their history is kept, and you will be
            asked to confirm with the number of products.
          </Alert>
        )}
        {form.operation === "export" && (
          <Radio.Group
            label="File format"
            value={form.format}
            onChange={(value) => onChange({ format: value as ExportFormat })}
          >
            <Group mt={4}>
              <Radio value="csv" label="CSV (Shopify product CSV)" />
              <Radio value="xlsx" label="Excel (XLSX)" />
            </Group>
          </Radio.Group>
        )}
        {form.operation !== "export" && canApprove && (
          <Checkbox
            label="Then push to Shopify: stage the changes, approve them as mine and push them to every active store"
            checked={form.push}
            onChange={(event) => onChange({ push: event.currentTarget.checked })}
          />
        )}
      </Stack>
    </Card>
  );
}
