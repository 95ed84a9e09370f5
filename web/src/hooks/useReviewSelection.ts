// Which changes are selected: some by id, or every change matching the filters (sent as the
// filter with the list's max_id, so 10,000 rows need not be loaded and nothing staged after
// the person looked is included). Other filters start a new selection.
import { useCallback, useEffect, useState } from "react";
import type { StagedChange } from "../api/review";

export interface AllMatching {
  total: number;
  maxId: number | null;
}

export function useReviewSelection(scope: string) {
  const [ids, setIds] = useState<Set<number>>(() => new Set());
  const [allMatching, setAllMatching] = useState<AllMatching | null>(null);

  const clear = useCallback(() => {
    setIds(new Set());
    setAllMatching(null);
  }, []);
  useEffect(clear, [scope, clear]);

  const toggle = useCallback((id: number) => {
    setAllMatching(null);
    setIds((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  const toggleAll = useCallback((rows: StagedChange[]) => {
    setAllMatching(null);
    setIds((current) =>
      rows.length > 0 && rows.every((row) => current.has(row.id))
        ? new Set()
        : new Set(rows.map((row) => row.id)),
    );
  }, []);

  const selectAllMatching = useCallback(
    (rows: StagedChange[], total: number, maxId: number | null) => {
      setIds(new Set(rows.map((row) => row.id)));
      setAllMatching({ total, maxId });
    },
    [],
  );

  return {
    ids,
    allMatching,
    count: allMatching ? allMatching.total : ids.size,
    isSelected: (id: number) => allMatching !== null || ids.has(id),
    toggle,
    toggleAll,
    selectAllMatching,
    clear,
  };
}

export type ReviewSelection = ReturnType<typeof useReviewSelection>;
