import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  getImport,
  isImportActive,
  listImports,
  startRemoteImport,
  uploadImport,
  type ImportKind,
} from "../api/imports";
import { queryKeys } from "./queryKeys";

// `import.progress` events invalidate these; between two events a running import's figures are
// polled so its counters move even when the events come seldom.
const WHILE_RUNNING_MS = 2_000;
const LIST_LENGTH = 20;

export const importKeys = {
  list: (kind: ImportKind) => [...queryKeys.imports, "list", kind] as const,
  detail: (importId: number) => [...queryKeys.imports, "detail", importId] as const,
};

/** The latest imports of one kind, newest first. */
export function useImports(kind: ImportKind) {
  return useQuery({
    queryKey: importKeys.list(kind),
    queryFn: ({ signal }) => listImports(kind, LIST_LENGTH, signal),
    refetchInterval: (query) =>
      (query.state.data ?? []).some(isImportActive) ? WHILE_RUNNING_MS : false,
  });
}

/** One import with its report and first rejected rows. */
export function useImport(importId: number | null) {
  return useQuery({
    queryKey: importKeys.detail(importId ?? 0),
    queryFn: ({ signal }) => getImport(importId ?? 0, signal),
    enabled: importId !== null,
    refetchInterval: (query) =>
      query.state.data && isImportActive(query.state.data) ? WHILE_RUNNING_MS : false,
  });
}

export type ImportStart = { file: File } | { remote: true };

const KIND_NAMES: Record<ImportKind, string> = { etilize: "Etilize", xorosoft: "Xorosoft" };

/** Start an import from a file or from the kind's remote source (FTP, the Xorosoft API). */
export function useStartImport(kind: ImportKind) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (start: ImportStart) =>
      "file" in start ? uploadImport(kind, start.file) : startRemoteImport(kind),
    onSuccess: (started) => {
      notifications.show({
        color: "blue",
        title: `${KIND_NAMES[kind]} import #${started.import_id} started`,
        message: "Its progress shows in the list below.",
      });
    },
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.imports });
      void client.invalidateQueries({ queryKey: queryKeys.jobs });
    },
  });
}
