// Etilize and Xorosoft imports (src/cowans/api/routers/imports.py): start one from a file or the
// remote source, follow it, read its report, download its errors.csv. Uploads and downloads go
// through fetch directly (the api() client speaks JSON only) with the same bearer token, error
// shape and expired-session handling.

import { currentToken, endSession } from "../auth/session";
import { api, ApiError } from "./client";

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

/** fetch with the bearer token and the api() client's errors, for what api() cannot send
 * (multipart, PUT) or read (a file). */
export async function authorizedFetch(path: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError(0, "network_error", "Cannot reach the server. Check your connection.");
  }
  if (response.status === 401) endSession("expired");
  if (!response.ok) {
    let code = "http_error";
    let message = `The server answered ${response.status} ${response.statusText}`.trim();
    try {
      const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
      if (typeof body.error?.code === "string") code = body.error.code;
      if (typeof body.error?.message === "string" && body.error.message) {
        message = body.error.message;
      }
    } catch {
      // not JSON: keep the status text
    }
    if (response.status === 413 && code === "http_error") {
      message = "The file is too large to upload.";
    }
    throw new ApiError(response.status, code, message);
  }
  return response;
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

function filenameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  return match?.[1] ?? fallback;
}

/** Fetch the import's errors.csv with the bearer header and hand it to the browser as a file. */
export async function downloadErrorsCsv(record: ImportRecord): Promise<void> {
  const response = await authorizedFetch(record.report_url, { headers: { Accept: "text/csv" } });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filenameOf(response, `import-${record.import_id}-errors.csv`);
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
