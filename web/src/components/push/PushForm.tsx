import {
  Card,
  Group,
  NumberInput,
  Radio,
  SegmentedControl,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { PRIORITIES, STRATEGIES, type PushConfig, type Strategy } from "../../api/push";

export const MAX_WORKERS = 10;
export const MAX_BATCH = 250;

export const STRATEGY_TEXT: Record<Strategy, { label: string; description: string }> = {
  balanced: {
    label: "Balanced",
    description:
      "The default: bulk operations once a kind of change would take half of Shopify's rate limit, batched requests otherwise.",
  },
  speed: {
    label: "Speed",
    description:
      "Finish first: many products per request, and bulk only when waiting for the rate limit would take longer.",
  },
  cost: {
    label: "Cost",
    description:
      "Fewest API points: bulk operations as soon as they are cheaper, even if they take a little longer.",
  },
};

/** Why the form cannot be sent as it stands, or null. */
export function formProblem(config: PushConfig): string | null {
  if (config.minWorkers > config.maxWorkers)
    return "The minimum of workers must not be above the maximum.";
  return null;
}

function asNumber(value: number | string, fallback: number): number {
  return typeof value === "number" ? value : Number.parseInt(value, 10) || fallback;
}

interface Props {
  config: PushConfig;
  onChange: (config: PushConfig) => void;
  /** The batch size the server uses when none is given. */
  defaultBatchSize: number | undefined;
}

/** The push's knobs: workers (1–10, min ≤ max), batch size, priority and strategy. */
export function PushForm({ config, onChange, defaultBatchSize }: Props) {
  const set = (patch: Partial<PushConfig>) => onChange({ ...config, ...patch });
  const tooMany = config.minWorkers > config.maxWorkers;
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>Settings</Title>
        <Group grow align="flex-start" wrap="wrap">
          <NumberInput
            label="Minimum workers"
            description="Always running"
            min={1}
            max={MAX_WORKERS}
            clampBehavior="strict"
            allowDecimal={false}
            value={config.minWorkers}
            onChange={(value) => set({ minWorkers: asNumber(value, 1) })}
            miw={140}
          />
          <NumberInput
            label="Maximum workers"
            description="Added while Shopify allows"
            min={1}
            max={MAX_WORKERS}
            clampBehavior="strict"
            allowDecimal={false}
            value={config.maxWorkers}
            error={tooMany ? "Must be at least the minimum" : undefined}
            onChange={(value) => set({ maxWorkers: asNumber(value, 1) })}
            miw={140}
          />
          <NumberInput
            label="Batch size"
            description="Products per request, at most"
            placeholder={defaultBatchSize ? `default: ${defaultBatchSize}` : "default"}
            min={1}
            max={MAX_BATCH}
            clampBehavior="strict"
            allowDecimal={false}
            value={config.batchSize ?? ""}
            onChange={(value) =>
              set({ batchSize: value === "" ? null : asNumber(value, defaultBatchSize ?? 50) })
            }
            miw={140}
          />
        </Group>
        <Stack gap={4}>
          <Text size="sm" fw={500} id="push-priority-label">
            Priority
          </Text>
          <SegmentedControl
            aria-labelledby="push-priority-label"
            value={config.priority}
            onChange={(value) => set({ priority: value as PushConfig["priority"] })}
            data={PRIORITIES.map((p) => ({ value: p, label: p[0]?.toUpperCase() + p.slice(1) }))}
          />
          <Text size="xs" c="dimmed">
            Decides the order among queued jobs; it does not change the push itself.
          </Text>
        </Stack>
        <Radio.Group
          label="Strategy"
          value={config.strategy}
          onChange={(value) => set({ strategy: value as Strategy })}
        >
          <Stack gap="xs" mt={4}>
            {STRATEGIES.map((strategy) => (
              <Radio
                key={strategy}
                value={strategy}
                label={STRATEGY_TEXT[strategy].label}
                description={STRATEGY_TEXT[strategy].description}
              />
            ))}
          </Stack>
        </Radio.Group>
      </Stack>
    </Card>
  );
}
