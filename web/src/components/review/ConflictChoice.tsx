// How a person settles one conflicting field: keep the catalog's value (local), take what
// Shopify has now (remote), or type another value, checked as they type.
import { Radio, Select, Stack, TextInput } from "@mantine/core";
import type { FieldChange } from "../../api/review";
import { display, editableText, parseEntered, type Choice, type FieldInfo } from "./fields";

function short(info: FieldInfo, value: unknown): string {
  const text = display(info, value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function ConflictChoice({
  info,
  change,
  choice,
  onChoose,
}: {
  info: FieldInfo;
  change: FieldChange;
  choice: Choice | undefined;
  onChoose: (choice: Choice) => void;
}) {
  const label = info.group === "Product" ? info.label : `${info.label} (${info.group})`;
  const entered = choice?.kind === "value" ? choice.text : "";
  const parsed = choice?.kind === "value" ? parseEntered(info, entered) : null;
  const error = parsed && !parsed.ok ? parsed.error : null;
  const pick = (kind: string) => {
    if (kind === "value") onChoose({ kind: "value", text: editableText(info, change.remote) });
    else onChoose({ kind: kind as "local" | "remote" });
  };
  const valueLabel = `Value for ${label}`;
  const choices = info.kind === "boolean" ? ["true", "false"] : info.choices;
  return (
    <Stack gap={6}>
      <Radio.Group
        value={choice?.kind ?? null}
        onChange={pick}
        label={`Decision for ${label}`}
        size="sm"
      >
        <Stack gap={4} mt={4}>
          <Radio value="local" label={`Keep local (catalog): ${short(info, change.new)}`} />
          <Radio value="remote" label={`Take remote (Shopify): ${short(info, change.remote)}`} />
          <Radio value="value" label="Enter a value" />
        </Stack>
      </Radio.Group>
      {choice?.kind === "value" &&
        (choices ? (
          <Select
            label={valueLabel}
            data={choices}
            value={entered || null}
            onChange={(value) => onChoose({ kind: "value", text: value ?? "" })}
            error={entered ? error : null}
            allowDeselect={false}
          />
        ) : (
          <TextInput
            label={valueLabel}
            description={info.kind === "list" ? "Separate the words with commas." : undefined}
            value={entered}
            onChange={(event) => onChoose({ kind: "value", text: event.currentTarget.value })}
            error={error}
          />
        ))}
    </Stack>
  );
}
