import { Badge, Button, Group, Table, Text, Tooltip } from "@mantine/core";
import { useState } from "react";
import { EDITABLE_FIELDS, type EditableField, type ProductDetail } from "../../api/products";
import { useAuth } from "../../auth/context";
import { usePermissions } from "../../auth/permissions";
import { ago } from "../../format";
import { useReleaseLock } from "../../hooks/useProduct";
import { FieldEditModal, currentValue } from "./FieldEditModal";
import { fieldLabel } from "../../fieldLabels";
import { describeOrigin, formatValue, plainText } from "./values";

function shown(product: ProductDetail, field: string): string {
  if ((EDITABLE_FIELDS as readonly string[]).includes(field)) {
    const value = currentValue(product, field as EditableField);
    if (field === "body_html") return plainText(value as string) || "(empty)";
    if (field === "published") return value ? "Yes" : "No";
    if (field === "inventory_policy") return value === "continue" ? "Keep selling" : "Stop selling";
    return formatValue(value);
  }
  const variant = product.variants[0];
  switch (field) {
    case "sku":
      return product.sku ?? "(none)";
    case "inventory":
      return formatValue(variant?.inventory ?? {});
    case "compare_at_price":
      return formatValue(variant?.compare_at_price ?? null);
    case "weight_grams":
      return formatValue(variant?.weight_grams ?? null);
    case "images":
      return `${product.images.length} image${product.images.length === 1 ? "" : "s"}`;
    case "specifications":
      return `${product.metafields.length} specification${product.metafields.length === 1 ? "" : "s"}`;
    default:
      return "—";
  }
}

/** Every field with its value, where the value came from, and its lock: edit (which locks) and
 * release are for editors; a viewer sees the same table without the buttons. */
export function FieldsPanel({ product }: { product: ProductDetail }) {
  const { canEdit } = usePermissions();
  const me = useAuth().session?.user.id;
  const release = useReleaseLock(product.id);
  const [editing, setEditing] = useState<EditableField | null>(null);

  const fields = [
    ...new Set<string>([
      ...EDITABLE_FIELDS,
      ...Object.keys(product.provenance),
      ...Object.keys(product.locks),
    ]),
  ];
  return (
    <>
      <Table.ScrollContainer minWidth={620}>
        <Table verticalSpacing="xs" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Field</Table.Th>
              <Table.Th>Value</Table.Th>
              <Table.Th>Came from</Table.Th>
              <Table.Th>Lock</Table.Th>
              {canEdit && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {fields.map((field) => {
              const origin = product.provenance[field];
              const lock = product.locks[field];
              const editable = (EDITABLE_FIELDS as readonly string[]).includes(field);
              const label = fieldLabel(field);
              return (
                <Table.Tr key={field} data-field={field}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {label}
                    </Text>
                  </Table.Td>
                  <Table.Td maw={320}>
                    <Text size="sm" lineClamp={3}>
                      {shown(product, field)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {origin ? (
                      <Text size="sm" title={origin.at}>
                        {describeOrigin(origin, me)}
                        <Text span size="xs" c="dimmed">
                          {" "}
                          · {origin.at ? ago(origin.at) : ""}
                        </Text>
                      </Text>
                    ) : (
                      <Text size="sm" c="dimmed">
                        —
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {lock ? (
                      <Tooltip
                        label={`Locked ${lock.at ? ago(lock.at) : ""}${
                          lock.by ? (lock.by === me ? " by you" : ` by user #${lock.by}`) : ""
                        }: imports keep this value.`}
                        withArrow
                      >
                        <Badge color="violet" variant="light">
                          Locked
                        </Badge>
                      </Tooltip>
                    ) : (
                      <Text size="xs" c="dimmed">
                        {editable ? "Feed-owned" : ""}
                      </Text>
                    )}
                  </Table.Td>
                  {canEdit && (
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        {editable && (
                          <Button
                            size="compact-xs"
                            variant="default"
                            aria-label={`Edit ${label}`}
                            onClick={() => setEditing(field as EditableField)}
                          >
                            Edit
                          </Button>
                        )}
                        {lock && (
                          <Button
                            size="compact-xs"
                            variant="subtle"
                            color="violet"
                            aria-label={`Release the lock on ${label}`}
                            loading={release.isPending && release.variables === field}
                            onClick={() => release.mutate(field)}
                          >
                            Release
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  )}
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <FieldEditModal product={product} field={editing} onClose={() => setEditing(null)} />
    </>
  );
}
