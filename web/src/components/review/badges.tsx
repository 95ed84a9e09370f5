import { Badge } from "@mantine/core";
import type { Direction, Operation } from "../../api/review";
import type { StagedStatus } from "../../api/types";

export const STATUS_COLORS: Record<StagedStatus, string> = {
  pending: "blue",
  conflict: "orange",
  approved: "teal",
  applied: "gray",
  rejected: "gray",
  failed: "red",
};

const OPERATION_COLORS: Record<Operation, string> = {
  create: "green",
  update: "blue",
  delete: "red",
};

export function StatusBadge({ status }: { status: StagedStatus }) {
  return (
    <Badge size="sm" variant="light" color={STATUS_COLORS[status]}>
      {status}
    </Badge>
  );
}

export function OperationBadge({ operation }: { operation: Operation }) {
  return (
    <Badge size="sm" variant="outline" color={OPERATION_COLORS[operation]}>
      {operation}
    </Badge>
  );
}

export function DirectionBadge({ direction }: { direction: Direction }) {
  return (
    <Badge size="sm" variant="dot" color={direction === "push" ? "indigo" : "grape"}>
      {direction === "push" ? "to Shopify" : "from Shopify"}
    </Badge>
  );
}
