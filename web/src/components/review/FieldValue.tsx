// One value of a changed field, shown the way its kind reads best: long text and HTML in a
// scrolling box with a line per block, lists and specifications as chips (what was added or
// removed against `other` marked), images by file name and alt text.
import { Anchor, Badge, Box, Group, Stack, Text } from "@mantine/core";
import type { FieldInfo } from "./fields";
import { display, metafieldItems, plain } from "./fields";

export type Side = "old" | "new" | "remote";

const SIDE_COLOR: Record<Side, string> = { old: "red", new: "green", remote: "orange" };

/** HTML with a line break after each block, so a description reads as paragraphs. */
function readableHtml(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, "$&\n")
    .replace(/<\/(p|div|li|ul|ol|h[1-6]|tr|table|section)>/gi, "$&\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function LongText({ text }: { text: string }) {
  return (
    <Box
      component="pre"
      m={0}
      p="xs"
      fz="xs"
      mah={180}
      style={{
        overflow: "auto",
        whiteSpace: "pre-wrap",
        wordBreak: "break-word",
        border: "1px solid var(--mantine-color-default-border)",
        borderRadius: 4,
      }}
    >
      {text}
    </Box>
  );
}

function Chips({ items, other, side }: { items: string[]; other: string[] | null; side: Side }) {
  if (items.length === 0) return <Text size="sm">—</Text>;
  return (
    <Group gap={4}>
      {items.map((item, index) => {
        const differs = other !== null && !other.includes(item);
        return (
          <Badge
            key={`${item}-${index}`}
            size="sm"
            variant={differs ? "filled" : "light"}
            color={differs ? SIDE_COLOR[side] : "gray"}
            tt="none"
            title={differs ? (side === "old" ? "removed" : "added") : undefined}
          >
            {item}
          </Badge>
        );
      })}
    </Group>
  );
}

function asList(value: unknown): string[] | null {
  if (Array.isArray(value)) return value.map((v) => plain(v));
  return null;
}

function fileName(address: string): string {
  try {
    return decodeURIComponent(new URL(address).pathname.split("/").pop() || address);
  } catch {
    return address;
  }
}

function Images({ value, other, side }: { value: unknown; other: unknown; side: Side }) {
  const images = Array.isArray(value) ? (value as unknown[]) : [];
  if (images.length === 0) return <Text size="sm">—</Text>;
  const otherKeys = Array.isArray(other) ? other.map((image) => JSON.stringify(image)) : null;
  return (
    <Stack gap={2}>
      {images.map((image, index) => {
        const [src, alt] = Array.isArray(image) ? image : [image, ""];
        const address = plain(src);
        const differs = otherKeys !== null && !otherKeys.includes(JSON.stringify(image));
        return (
          <Group key={index} gap={6} wrap="nowrap">
            {differs && (
              <Badge size="xs" color={SIDE_COLOR[side]}>
                {side === "old" ? "removed" : "added"}
              </Badge>
            )}
            <Anchor href={address} target="_blank" rel="noreferrer" size="sm" truncate="end">
              {fileName(address)}
            </Anchor>
            {alt ? (
              <Text size="xs" c="dimmed" truncate="end">
                “{plain(alt)}”
              </Text>
            ) : null}
          </Group>
        );
      })}
    </Stack>
  );
}

/** A field's value on one side; `other` is the value it is compared with. */
export function FieldValue({
  info,
  value,
  other,
  side,
}: {
  info: FieldInfo;
  value: unknown;
  other: unknown;
  side: Side;
}) {
  if (value === null || value === undefined || value === "") {
    return (
      <Text size="sm" c="dimmed" fs="italic">
        not set
      </Text>
    );
  }
  if (info.kind === "list")
    return <Chips items={asList(value) ?? []} other={asList(other)} side={side} />;
  if (info.kind === "metafield") {
    const items = metafieldItems(value);
    if (items) return <Chips items={items} other={metafieldItems(other)} side={side} />;
  }
  if (info.kind === "images") return <Images value={value} other={other} side={side} />;
  if (info.kind === "html" && typeof value === "string")
    return <LongText text={readableHtml(value)} />;
  const text = display(info, value);
  if (text.length > 80 || text.includes("\n")) return <LongText text={text} />;
  return (
    <Text size="sm" fw={500} style={{ wordBreak: "break-word" }}>
      {text}
    </Text>
  );
}
