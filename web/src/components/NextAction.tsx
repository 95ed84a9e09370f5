import { Alert, Button, Group, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import type { StagedCounts } from "../api/types";
import { count } from "../format";

export interface Action {
  text: string;
  color: string;
  /** Where the person does it, and the button's words. */
  to?: string;
  cta?: string;
}

/** The one thing to do next, from the staged totals, most urgent first. */
export function nextAction(staged: StagedCounts, stores: number): Action {
  const n = (status: keyof StagedCounts) => staged[status] ?? 0;
  if (stores === 0)
    return {
      text: "Add a Shopify store to start syncing.",
      color: "blue",
      to: "/settings?tab=stores",
      cta: "Connect a store",
    };
  if (n("conflict") > 0)
    return {
      text: `${count(n("conflict"), "conflict")} ${n("conflict") === 1 ? "needs" : "need"} a decision.`,
      color: "orange",
      to: "/review?status=conflict",
      cta: "Resolve conflicts",
    };
  if (n("pending") > 0)
    return {
      text: `${count(n("pending"), "change")} waiting for review.`,
      color: "blue",
      to: "/review?status=pending",
      cta: "Review changes",
    };
  if (n("approved") > 0)
    return {
      text: `${count(n("approved"), "approved change")} ready to push.`,
      color: "teal",
      to: "/push",
      cta: "Push to Shopify",
    };
  if (n("failed") > 0)
    return {
      text: `${count(n("failed"), "change")} failed to push.`,
      color: "red",
      to: "/review?status=failed",
      cta: "See what failed",
    };
  return { text: "All caught up: nothing waiting for review or push.", color: "green" };
}

export function NextAction({ staged, stores }: { staged: StagedCounts; stores: number }) {
  const action = nextAction(staged, stores);
  return (
    <Alert color={action.color} title="Next" variant="light">
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Text size="sm">{action.text}</Text>
        {action.to && action.cta && (
          <Button component={Link} to={action.to} size="xs" color={action.color}>
            {action.cta}
          </Button>
        )}
      </Group>
    </Alert>
  );
}
