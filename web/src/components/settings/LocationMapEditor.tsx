import { ActionIcon, Button, Group, Stack, Text, TextInput } from "@mantine/core";

export interface LocationPair {
  from: string;
  to: string;
}

export function pairsOf(map: Record<string, string>): LocationPair[] {
  return Object.entries(map).map(([from, to]) => ({ from, to }));
}

/** The map to send, or the sentence saying what is wrong with it. */
export function mapOf(pairs: LocationPair[]): Record<string, string> | string {
  const map: Record<string, string> = {};
  for (const [index, pair] of pairs.entries()) {
    const from = pair.from.trim();
    const to = pair.to.trim();
    if (!from && !to) continue;
    if (!from || !to)
      return `Location ${index + 1}: fill in both the Xorosoft and the Shopify location.`;
    if (from in map) return `The Xorosoft location "${from}" is mapped twice.`;
    map[from] = to;
  }
  return map;
}

/** Xorosoft location name -> Shopify location name. Unmapped locations keep their own name. */
export function LocationMapEditor({
  value,
  onChange,
  disabled = false,
}: {
  value: LocationPair[];
  onChange: (pairs: LocationPair[]) => void;
  disabled?: boolean;
}) {
  const set = (index: number, pair: LocationPair) =>
    onChange(value.map((old, i) => (i === index ? pair : old)));
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        Location map
      </Text>
      <Text size="xs" c="dimmed">
        Which Shopify location receives each Xorosoft location&apos;s stock. A Xorosoft location not
        listed here goes to the Shopify location of the same name.
      </Text>
      {value.map((pair, index) => (
        <Group key={index} gap="xs" align="flex-end" wrap="wrap">
          <TextInput
            label={`Xorosoft location ${index + 1}`}
            value={pair.from}
            onChange={(e) => set(index, { ...pair, from: e.currentTarget.value })}
            disabled={disabled}
            w={200}
          />
          <Text size="sm" pb={8} aria-hidden>
            →
          </Text>
          <TextInput
            label={`Shopify location ${index + 1}`}
            value={pair.to}
            onChange={(e) => set(index, { ...pair, to: e.currentTarget.value })}
            disabled={disabled}
            w={200}
          />
          <ActionIcon
            variant="subtle"
            color="red"
            mb={4}
            aria-label={`Remove location ${index + 1}`}
            onClick={() => onChange(value.filter((_, i) => i !== index))}
            disabled={disabled}
          >
            ✕
          </ActionIcon>
        </Group>
      ))}
      <Group>
        <Button
          variant="subtle"
          size="xs"
          onClick={() => onChange([...value, { from: "", to: "" }])}
          disabled={disabled}
        >
          Add a location
        </Button>
      </Group>
    </Stack>
  );
}
