// The one way the dashboard talks to the API: adds the bearer token, turns the app's error
// body `{error: {code, message}}` into an ApiError with a readable message, and ends the
// session on a 401 (the login page then says it expired).

import { currentToken, endSession } from "../auth/session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
  anonymous?: boolean; // no token, and a 401 is an answer, not an expired session (login)
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function toError(response: Response): Promise<ApiError> {
  let body: ErrorBody | null = null;
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    // not JSON (a proxy's error page): fall back to the status text
  }
  const error = body?.error;
  const code = typeof error?.code === "string" ? error.code : "http_error";
  let message =
    typeof error?.message === "string" && error.message
      ? error.message
      : `The server answered ${response.status} ${response.statusText}`.trim();
  if (response.status === 413 && code === "http_error") {
    message = "The file is too large to upload."; // a proxy's limit, before the app's
  }
  return new ApiError(response.status, code, message, error?.details);
}

/** fetch with the bearer token (unless `anonymous`), the session ended on a 401 and the app's
 * errors as ApiError. */
async function send(path: string, init: RequestInit, anonymous: boolean): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = anonymous ? null : currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "network_error", "Cannot reach the server. Check your connection.");
  }
  // Login itself answers 401 for a wrong password: that is not an expired session.
  if (response.status === 401 && !anonymous) endSession("expired");
  if (!response.ok) throw await toError(response);
  return response;
}

/** For what api() cannot send (multipart) or read (a file). */
export const authorizedFetch = (path: string, init: RequestInit = {}) => send(path, init, false);

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const init: RequestInit = { method: options.method ?? "GET", headers };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  if (options.signal) init.signal = options.signal;
  const response = await send(withQuery(path, options.query), init, options.anonymous ?? false);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

function filenameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match?.[1] ? decodeURIComponent(match[1]) : fallback;
}

/** Fetch a file with the bearer header (a plain link would have none) and hand it to the
 * browser as a download, under the server's file name or `fallbackName`. */
export async function downloadFile(path: string, fallbackName: string): Promise<void> {
  const response = await authorizedFetch(path);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filenameOf(response, fallbackName);
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
