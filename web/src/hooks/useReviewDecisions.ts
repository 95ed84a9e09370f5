// Approving and rejecting from the review: what a decision covers (the selection, every change
// matching, or the focused row), a confirmation before a big one, and the outcome in words.
import { notifications } from "@mantine/notifications";
import { useCallback, useState } from "react";
import { errorMessage } from "../api/client";
import {
  filterQuery,
  type DecisionRequest,
  type DecisionResult,
  type ReviewFilters,
  type StagedChange,
} from "../api/review";
import { toResolution, type Choice } from "../components/review/fields";
import { count } from "../format";
import type { ReviewSelection } from "./useReviewSelection";
import { useStagedDecision } from "./useStagedChanges";

/** From this many changes on, a decision asks first. */
export const CONFIRM_AT = 25;

export type Decision = "approve" | "reject";

export interface PendingDecision {
  decision: Decision;
  body: DecisionRequest;
  size: number;
  everyMatching: boolean;
}

/** The outcome as a sentence: "312 approved, 3 conflicts still need a decision". */
export function outcomeText(result: DecisionResult): string {
  const parts: string[] = [];
  if (result.approved) parts.push(`${result.approved.toLocaleString()} approved`);
  if (result.rejected) parts.push(`${result.rejected.toLocaleString()} rejected`);
  if (result.unresolved_conflicts)
    parts.push(
      `${count(result.unresolved_conflicts, "conflict")} still ${
        result.unresolved_conflicts === 1 ? "needs" : "need"
      } a decision`,
    );
  if (result.skipped)
    parts.push(`${result.skipped.toLocaleString()} skipped (already decided or pushed)`);
  return parts.length
    ? `${parts.join(", ")}.`
    : "Nothing changed: those changes were already decided.";
}

/** The filters in words, for a confirmation. */
export function describeFilters(filters: ReviewFilters, storeName?: string): string {
  const words = [
    filters.status ? `status ${filters.status}` : null,
    filters.direction ? (filters.direction === "push" ? "to Shopify" : "from Shopify") : null,
    filters.operation_type ? `${filters.operation_type}s` : null,
    filters.vendor ? `vendor ${filters.vendor}` : null,
    filters.product_type ? `type ${filters.product_type}` : null,
    filters.store_id !== null ? `store ${storeName ?? filters.store_id}` : null,
    filters.conflicts_only ? "conflicts only" : null,
    filters.query.trim() ? `matching “${filters.query.trim()}”` : null,
  ].filter(Boolean);
  return words.length ? words.join(", ") : "no filter: every store, every status";
}

export function useReviewDecisions({
  filters,
  selection,
  focused,
}: {
  filters: ReviewFilters;
  selection: ReviewSelection;
  focused: StagedChange | undefined;
}) {
  const mutation = useStagedDecision();
  const [pending, setPending] = useState<PendingDecision | null>(null);
  // The conflict choices being made, by change id and field, until the change is decided.
  const [choices, setChoices] = useState<Record<number, Record<string, Choice>>>({});
  const choose = useCallback(
    (id: number, field: string, choice: Choice) =>
      setChoices((current) => ({ ...current, [id]: { ...current[id], [field]: choice } })),
    [],
  );
  const { clear } = selection;
  const onDecided = useCallback(
    (ids: number[] | null) => {
      clear();
      setChoices((current) =>
        ids === null
          ? {}
          : Object.fromEntries(Object.entries(current).filter(([id]) => !ids.includes(Number(id)))),
      );
    },
    [clear],
  );

  const run = useCallback(
    (request: PendingDecision) => {
      setPending(null);
      mutation.mutate(request.body, {
        onSuccess: (result) => {
          notifications.show({
            color: result.unresolved_conflicts ? "orange" : "teal",
            title: request.decision === "approve" ? "Approval saved" : "Rejection saved",
            message: outcomeText(result),
          });
          onDecided(request.body.ids ?? null);
        },
        onError: (error) =>
          notifications.show({
            color: "red",
            title: request.decision === "approve" ? "Could not approve" : "Could not reject",
            message: errorMessage(error),
          }),
      });
    },
    [mutation, onDecided],
  );

  /** Resolutions of the conflicts a person has fully settled (only those the API needs). */
  const resolutions = useCallback(
    (ids: number[] | null) => {
      const found: DecisionRequest["resolutions"] = {};
      for (const [id, rowChoices] of Object.entries(choices)) {
        if (ids !== null && !ids.includes(Number(id))) continue;
        const resolution = toResolution(Object.keys(rowChoices), rowChoices);
        if (resolution) found[id] = resolution;
      }
      return Object.keys(found).length ? found : undefined;
    },
    [choices],
  );

  /** Decide the selection, or the focused change when nothing is selected. */
  const decide = useCallback(
    (decision: Decision, only?: StagedChange) => {
      let body: DecisionRequest;
      let size: number;
      let everyMatching = false;
      if (only) {
        body = { decision, ids: [only.id] };
        size = 1;
      } else if (selection.allMatching) {
        const filter: DecisionRequest["filter"] = { ...filterQuery(filters) };
        if (selection.allMatching.maxId !== null) filter.max_id = selection.allMatching.maxId;
        body = { decision, filter };
        size = selection.allMatching.total;
        everyMatching = true;
      } else if (selection.ids.size > 0) {
        body = { decision, ids: [...selection.ids] };
        size = selection.ids.size;
      } else if (focused) {
        body = { decision, ids: [focused.id] };
        size = 1;
      } else {
        return;
      }
      if (decision === "approve") {
        const found = resolutions(body.ids ?? null);
        if (found) body.resolutions = found;
      }
      const request = { decision, body, size, everyMatching };
      if (everyMatching || size >= CONFIRM_AT) setPending(request);
      else run(request);
    },
    [filters, focused, resolutions, run, selection.allMatching, selection.ids],
  );

  return {
    decide,
    choices,
    choose,
    pending,
    confirm: () => pending && run(pending),
    cancel: () => setPending(null),
    busy: mutation.isPending,
  };
}
