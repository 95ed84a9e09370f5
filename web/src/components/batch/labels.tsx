import { Badge } from "@mantine/core";
import type { BatchState } from "../../api/batch";

const STATES: Record<BatchState, { color: string; label: string }> = {
  queued: { color: "gray", label: "Queued" },
  running: { color: "blue", label: "Running" },
  completed: { color: "green", label: "Completed" },
  completed_with_errors: { color: "orange", label: "Completed with errors" },
  failed: { color: "red", label: "Failed" },
  cancelled: { color: "gray", label: "Cancelled" },
};

/** A batch's state; one that completed with failed products never reads as plain success. */
export function BatchStateBadge({ state, failed }: { state: BatchState; failed: number }) {
  const shown = state === "completed" && failed > 0 ? "completed_with_errors" : state;
  const { color, label } = STATES[shown] ?? { color: "gray", label: state };
  return (
    <Badge color={color} variant="light">
      {label}
    </Badge>
  );
}

const OPERATIONS: Record<string, string> = {
  update: "Update",
  delete: "Delete",
  export: "Export",
};

export function operationLabel(operation: string | undefined, format?: string | null): string {
  const label = OPERATIONS[operation ?? ""] ?? operation ?? "Batch";
  return operation === "export" && format ? `${label} (${format.toUpperCase()})` : label;
}
