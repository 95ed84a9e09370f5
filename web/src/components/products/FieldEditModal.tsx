import {
  Alert,
  Button,
  Group,
  Modal,
  NumberInput,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useEffect, useState } from "react";
import { errorMessage } from "../../api/client";
import {
  PRODUCT_STATUSES,
  type EditableField,
  type ProductDetail,
  type ProductEdit,
} from "../../api/products";
import { useEditProduct } from "../../hooks/useProduct";
import { fieldLabel } from "../../fieldLabels";

type Value = string | boolean | string[];

/** A field's current value, as its input holds it. */
export function currentValue(product: ProductDetail, field: EditableField): Value {
  const variant = product.variants[0];
  switch (field) {
    case "tags":
      return product.tags;
    case "published":
      return product.published;
    case "price":
      return variant?.price ?? "";
    case "barcode":
      return variant?.barcode ?? "";
    case "inventory_policy":
      return variant?.inventory_policy ?? "deny";
    default:
      return product[field];
  }
}

function FieldInput({
  field,
  value,
  onChange,
}: {
  field: EditableField;
  value: Value;
  onChange: (value: Value) => void;
}) {
  const label = fieldLabel(field);
  switch (field) {
    case "tags":
      return (
        <TagsInput
          label={label}
          description="Press Enter after each tag"
          value={value as string[]}
          onChange={onChange}
          clearable
          data-autofocus
        />
      );
    case "published":
      return (
        <Switch
          label={label}
          checked={value as boolean}
          onChange={(event) => onChange(event.currentTarget.checked)}
        />
      );
    case "status":
      return (
        <Select
          label={label}
          data={[...PRODUCT_STATUSES]}
          value={value as string}
          onChange={(next) => next && onChange(next)}
          allowDeselect={false}
        />
      );
    case "inventory_policy":
      return (
        <Select
          label={label}
          data={[
            { value: "deny", label: "Stop selling" },
            { value: "continue", label: "Keep selling (backorder)" },
          ]}
          value={value as string}
          onChange={(next) => next && onChange(next)}
          allowDeselect={false}
        />
      );
    case "price":
      return (
        <NumberInput
          label={label}
          value={value as string}
          onChange={(next) => onChange(String(next))}
          min={0}
          decimalScale={2}
          fixedDecimalScale
          data-autofocus
        />
      );
    case "body_html":
    case "seo_description":
      return (
        <Textarea
          label={label}
          value={value as string}
          onChange={(event) => onChange(event.currentTarget.value)}
          autosize
          minRows={4}
          maxRows={14}
          data-autofocus
        />
      );
    default:
      return (
        <TextInput
          label={label}
          value={value as string}
          onChange={(event) => onChange(event.currentTarget.value)}
          data-autofocus
        />
      );
  }
}

interface Props {
  product: ProductDetail;
  field: EditableField | null;
  onClose: () => void;
}

/** Edit one field. Saving locks it: the feeds keep their hands off until someone releases it. */
export function FieldEditModal({ product, field, onClose }: Props) {
  const edit = useEditProduct(product.id);
  const [value, setValue] = useState<Value>("");

  useEffect(() => {
    if (field) {
      setValue(currentValue(product, field));
      edit.reset();
    }
  }, [field]); // a new field opens with its value; a refetch underneath does not reset it

  const save = () => {
    if (!field) return;
    const body: ProductEdit = { [field]: value };
    edit.mutate(body, { onSuccess: onClose });
  };

  return (
    <Modal
      opened={field !== null}
      onClose={onClose}
      title={field ? `Edit ${fieldLabel(field).toLowerCase()}` : ""}
      size="lg"
    >
      {field && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            save();
          }}
        >
          <Stack>
            <FieldInput field={field} value={value} onChange={setValue} />
            <Text size="sm" c="dimmed">
              Saving locks this field: imports keep your value until the lock is released.
            </Text>
            {edit.error && (
              <Alert color="red" title="Not saved">
                {errorMessage(edit.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={edit.isPending}>
                Save and lock
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
