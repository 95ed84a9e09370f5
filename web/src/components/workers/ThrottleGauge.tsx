import { Card, SemiCircleProgress, Stack, Text, Title } from "@mantine/core";
import type { Throttle } from "../../api/push";
import { whole } from "../push/format";

/** Shopify's leaky bucket as the client last saw it: points available of the maximum, and how
 * fast it refills. */
export function ThrottleGauge({ throttle }: { throttle: Throttle }) {
  const { currently_available: available, maximum_available: maximum } = throttle;
  const share = maximum > 0 ? Math.min(100, (available / maximum) * 100) : 0;
  const color = share < 20 ? "red" : share < 50 ? "orange" : "teal";
  return (
    <Card withBorder padding="md" aria-label="Shopify throttle bucket">
      <Stack gap={4} align="center">
        <Title order={5}>Shopify rate limit</Title>
        <SemiCircleProgress
          value={share}
          size={190}
          thickness={14}
          filledSegmentColor={color}
          transitionDuration={250}
          label={maximum > 0 ? `${Math.round(share)}%` : "—"}
          role="meter"
          aria-valuemin={0}
          aria-valuemax={maximum}
          aria-valuenow={available}
          aria-label="Points available in Shopify's bucket"
        />
        <Text size="sm" data-testid="throttle-points">
          {maximum > 0 ? `${whole(available)} of ${whole(maximum)} points` : "Not measured yet"}
        </Text>
        <Text size="xs" c="dimmed">
          {throttle.restore_rate > 0
            ? `Refills ${whole(throttle.restore_rate)} points/s`
            : "Refill rate unknown"}
        </Text>
      </Stack>
    </Card>
  );
}
