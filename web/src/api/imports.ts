// Etilize and Xorosoft imports (src/cowans/api/routers/imports.py): start one from a file or the
// remote source, follow it, read its report, download its errors.csv. Uploads and downloads go
// through fetch directly (the api() client speaks JSON only) with the same bearer token, error
// shape and expired-session handling.

import { api, authorizedFetch, downloadFile } from "./client";

export type ImportKind = "etilize" | "xorosoft";
export type ImportState = "queued" | "running" | "completed" | "failed" | "cancelled";

/** Where each kind comes from when no file is uploaded. */
export const REMOTE_SOURCE: Record<ImportKind, "ftp" | "api"> = {
  etilize: "ftp",
  xorosoft: "api",
};

export const MATCH_METHODS = ["sku", "cws_a", "cws_catalog", "sprc"] as const;
export type MatchMethod = (typeof MATCH_METHODS)[number];

export interface UnmatchedRow {
  row: number;
  handle: string;
  sku: string;
  title: string;
}

export interface DuplicateRow {
  handle: string;
  row_number: number;
  item_number: string;
  method: string;
  kept_handle: string;
}

export interface LockedDisagreement {
  handle: string;
  field: string;
  feed_value: unknown;
  kept_value: unknown;
}

/** `report` as the importer writes it: Etilize has the four lists, Xorosoft only `locked`. */
export interface ImportReportBody {
  methods?: Partial<Record<MatchMethod, number>>;
  unmatched?: UnmatchedRow[];
  duplicates?: DuplicateRow[];
  locked?: LockedDisagreement[];
  /** An FTP download identical to an earlier import: nothing was read again. */
  skipped?: string;
}

export interface ImportRecord {
  import_id: number;
  kind: ImportKind;
  state: ImportState;
  source: string;
  filename: string;
  rows: number;
  products: number;
  matched: number;
  unmatched: number;
  duplicates: number;
  errors: number;
  created: number;
  updated: number;
  unchanged: number;
  locked_conflicts: number;
  report: ImportReportBody;
  report_url: string;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface RowError {
  row: number;
  column: string;
  reason: string;
}

export interface ImportDetail extends ImportRecord {
  /** The first rejected rows; `errors` is how many there are, errors.csv has every one. */
  row_errors: RowError[];
}

export interface ImportStarted {
  import_id: number;
  job_id: number;
}

export function isImportActive(record: { state: ImportState }): boolean {
  return record.state === "queued" || record.state === "running";
}

export function listImports(kind: ImportKind, limit: number, signal?: AbortSignal) {
  return api<ImportRecord[]>("/api/imports", { query: { kind, limit }, ...(signal && { signal }) });
}

export function getImport(importId: number, signal?: AbortSignal) {
  return api<ImportDetail>(`/api/imports/${importId}`, signal ? { signal } : {});
}

export function startRemoteImport(kind: ImportKind) {
  return api<ImportStarted>(`/api/imports/${kind}`, {
    method: "POST",
    body: { source: REMOTE_SOURCE[kind] },
  });
}

/** POST the file as the multipart field `file`. */
export async function uploadImport(kind: ImportKind, file: File): Promise<ImportStarted> {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await authorizedFetch(`/api/imports/${kind}`, {
    method: "POST",
    headers: { Accept: "application/json" },
    body: form,
  });
  return (await response.json()) as ImportStarted;
}

/** The import's errors.csv, saved as a file. */
export const downloadErrorsCsv = (record: ImportRecord): Promise<void> =>
  downloadFile(record.report_url, `import-${record.import_id}-errors.csv`);
