// The focused change field by field: what the store has, what would replace it, and for a
// conflict what Shopify has now, with the choice to make for each conflicting field.
import {
  Alert,
  Badge,
  Button,
  Card,
  Divider,
  Group,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import type { FieldChange, StagedChange } from "../../api/review";
import { ago } from "../../format";
import { ConflictChoice } from "./ConflictChoice";
import { FieldValue, type Side } from "./FieldValue";
import { groupedFields, toResolution, type Choice, type FieldInfo } from "./fields";
import { DirectionBadge, OperationBadge, StatusBadge } from "./badges";

const RESOLVED: Record<string, string> = {
  local: "kept local",
  remote: "took remote",
  value: "entered a value",
};

/** What `old`, `new` and `remote` mean for this change. */
function sideLabels(change: StagedChange): Record<Side, string> {
  if (change.direction === "pull") return { old: "Catalog", new: "Shopify", remote: "Shopify now" };
  if (change.conflict_fields.length > 0 || Object.values(change.changes).some((c) => "remote" in c))
    return { old: "Last synced", new: "Local (catalog)", remote: "Remote (Shopify now)" };
  return { old: "In Shopify", new: "Will be sent", remote: "Shopify now" };
}

function FieldRows({
  info,
  change,
  labels,
  onlyNew,
}: {
  info: FieldInfo;
  change: FieldChange;
  labels: Record<Side, string>;
  onlyNew: boolean;
}) {
  const sides: Side[] = onlyNew
    ? ["new"]
    : "remote" in change
      ? ["old", "new", "remote"]
      : ["old", "new"];
  return (
    <Stack gap={4}>
      {sides.map((side) => (
        <Group key={side} gap="xs" align="flex-start" wrap="nowrap">
          <Text size="xs" c="dimmed" w={130} style={{ flexShrink: 0 }} pt={2}>
            {labels[side]}
          </Text>
          <div style={{ minWidth: 0, flex: 1 }}>
            <FieldValue
              info={info}
              side={side}
              value={change[side]}
              other={side === "old" ? change.new : change.old}
            />
          </div>
        </Group>
      ))}
    </Stack>
  );
}

/** Stock by location of one variant, old and new side by side (no conflicts among them). */
function StockTable({
  fields,
  changes,
  labels,
  onlyNew,
}: {
  fields: FieldInfo[];
  changes: Record<string, FieldChange>;
  labels: Record<Side, string>;
  onlyNew: boolean;
}) {
  return (
    <Table withTableBorder fz="sm" verticalSpacing={2} horizontalSpacing="xs">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Stock at</Table.Th>
          {!onlyNew && <Table.Th>{labels.old}</Table.Th>}
          <Table.Th>{labels.new}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {fields.map((info) => {
          const change = changes[info.name] ?? {};
          return (
            <Table.Tr key={info.name}>
              <Table.Td>{info.label.replace(/^Stock at /, "")}</Table.Td>
              {!onlyNew && (
                <Table.Td>
                  {change.old === null || change.old === undefined ? "—" : String(change.old)}
                </Table.Td>
              )}
              <Table.Td fw={500}>
                {change.new === null || change.new === undefined ? "—" : String(change.new)}
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}

export interface ChangeDetailProps {
  change: StagedChange;
  storeName: string | undefined;
  canApprove: boolean;
  choices: Record<string, Choice> | undefined;
  onChoose: (field: string, choice: Choice) => void;
  onApprove: () => void;
  onReject: () => void;
  busy: boolean;
}

export function ChangeDetail({
  change,
  storeName,
  canApprove,
  choices,
  onChoose,
  onApprove,
  onReject,
  busy,
}: ChangeDetailProps) {
  const labels = sideLabels(change);
  const onlyNew = change.operation_type === "create";
  const isConflict = change.status === "conflict";
  const resolution = isConflict ? toResolution(change.conflict_fields, choices) : null;
  const canDecide = ["pending", "conflict", "approved", "failed"].includes(change.status);
  const fieldCount = Object.keys(change.changes).length;
  const facts = [change.handle, change.vendor, change.product_type, storeName].filter(Boolean);

  return (
    <Card withBorder padding="sm" component="section" aria-label="Change details">
      <Stack gap="sm">
        <div>
          <Title order={4} style={{ wordBreak: "break-word" }}>
            {change.title || change.handle}
          </Title>
          <Text size="sm" c="dimmed">
            {facts.join(" · ")}
          </Text>
        </div>
        <Group gap={6}>
          <DirectionBadge direction={change.direction} />
          <OperationBadge operation={change.operation_type} />
          <StatusBadge status={change.status} />
          <Text size="xs" c="dimmed" title={change.created_at}>
            staged {ago(change.created_at)}
          </Text>
        </Group>
        {change.direction === "pull" && (
          <Text size="sm">
            Made in Shopify. Approving takes it into the catalog; rejecting stages the push that
            puts the catalog's values back.
          </Text>
        )}
        {change.operation_type === "delete" && (
          <Alert color="red" variant="light" p="xs">
            {change.direction === "push"
              ? "Approving deletes this product from the Shopify store."
              : "Deleted in Shopify. Approving deletes it from the catalog too."}
          </Alert>
        )}
        {isConflict && (
          <Alert color="orange" variant="light" p="xs" title="Changed on both sides">
            The catalog and Shopify both changed{" "}
            {change.conflict_fields.length === 1 ? "this field" : "these fields"} since the last
            sync. Choose what to keep for each, then approve.
          </Alert>
        )}
        {change.error && (
          <Alert color="red" variant="light" p="xs" title="Push failed">
            {change.error}
          </Alert>
        )}
        {change.approved_at && (
          <Text size="xs" c="dimmed" title={change.approved_at}>
            {change.status === "rejected" ? "Rejected" : "Approved"}{" "}
            {change.approval_rule ? `by ${change.approval_rule.replace(/^rule:/, "rule: ")}` : ""}{" "}
            {ago(change.approved_at)}
            {change.applied_at ? ` · applied ${ago(change.applied_at)}` : ""}
          </Text>
        )}
        {onlyNew && (
          <Text size="sm">
            New product: {fieldCount} {fieldCount === 1 ? "field" : "fields"} will be set.
          </Text>
        )}
        {fieldCount === 0 && (
          <Text size="sm" c="dimmed">
            No field differences recorded for this change.
          </Text>
        )}

        {groupedFields(change.changes, change.conflict_fields).map(([group, fields]) => {
          const stock = fields.filter(
            (info) => info.kind === "stock" && !change.conflict_fields.includes(info.name),
          );
          const others = fields.filter((info) => !stock.includes(info));
          return (
            <Stack key={group} gap="xs">
              <Divider
                label={group === "Product" ? "Product" : `Variant ${group}`}
                labelPosition="left"
              />
              {others.map((info) => {
                const fieldChange = change.changes[info.name] ?? {};
                const conflicting = change.conflict_fields.includes(info.name);
                return (
                  <Stack key={info.name} gap={4}>
                    <Group gap={6}>
                      <Text size="sm" fw={600}>
                        {info.label}
                      </Text>
                      {conflicting && (
                        <Badge size="xs" color="orange">
                          conflict
                        </Badge>
                      )}
                      {fieldChange.resolution && (
                        <Badge size="xs" color="teal" variant="light">
                          {RESOLVED[fieldChange.resolution] ?? fieldChange.resolution}
                        </Badge>
                      )}
                    </Group>
                    <FieldRows info={info} change={fieldChange} labels={labels} onlyNew={onlyNew} />
                    {conflicting && isConflict && canApprove && (
                      <ConflictChoice
                        info={info}
                        change={fieldChange}
                        choice={choices?.[info.name]}
                        onChoose={(choice) => onChoose(info.name, choice)}
                      />
                    )}
                  </Stack>
                );
              })}
              {stock.length > 0 && (
                <StockTable
                  fields={stock}
                  changes={change.changes}
                  labels={labels}
                  onlyNew={onlyNew}
                />
              )}
            </Stack>
          );
        })}

        {canApprove && canDecide ? (
          <Group gap="xs">
            {change.status !== "approved" && (
              <Button
                color="teal"
                onClick={onApprove}
                loading={busy}
                disabled={isConflict && resolution === null}
              >
                {isConflict ? "Approve with these choices" : "Approve"}
              </Button>
            )}
            <Button color="red" variant="light" onClick={onReject} loading={busy}>
              Reject
            </Button>
            {isConflict && resolution === null && (
              <Text size="xs" c="dimmed">
                Choose for each conflicting field first.
              </Text>
            )}
          </Group>
        ) : !canApprove && canDecide ? (
          <Text size="xs" c="dimmed">
            Approving and rejecting need the approver role.
          </Text>
        ) : null}
      </Stack>
    </Card>
  );
}
