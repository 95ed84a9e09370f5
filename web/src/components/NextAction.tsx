import { Alert } from "@mantine/core";
import type { StagedCounts } from "../api/types";
import { count } from "../format";

/** The one thing to do next, from the staged totals, most urgent first. */
export function nextAction(staged: StagedCounts, stores: number): { text: string; color: string } {
  const n = (status: keyof StagedCounts) => staged[status] ?? 0;
  if (stores === 0) return { text: "Add a Shopify store to start syncing.", color: "blue" };
  if (n("conflict") > 0)
    return { text: `${count(n("conflict"), "conflict")} need a decision.`, color: "orange" };
  if (n("pending") > 0)
    return { text: `${count(n("pending"), "change")} waiting for review.`, color: "blue" };
  if (n("approved") > 0)
    return { text: `${count(n("approved"), "approved change")} ready to push.`, color: "teal" };
  if (n("failed") > 0)
    return { text: `${count(n("failed"), "change")} failed to push.`, color: "red" };
  return { text: "All caught up: nothing waiting for review or push.", color: "green" };
}

export function NextAction({ staged, stores }: { staged: StagedCounts; stores: number }) {
  const action = nextAction(staged, stores);
  return (
    <Alert color={action.color} title="Next" variant="light">
      {action.text}
    </Alert>
  );
}
