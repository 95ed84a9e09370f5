// The login session, kept in sessionStorage: it dies with the tab, and never sits in a cookie
// another site could ride on. Anything that changes it tells the app through one window event.

import type { User } from "../api/types";

const KEY = "cowans.session";
export const SESSION_ENDED = "cowans:session-ended";

export interface Session {
  token: string;
  expiresAt: number; // epoch milliseconds
  user: User;
}

export type EndReason = "logout" | "expired";

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (raw === null) return null;
  try {
    const session = JSON.parse(raw) as Session;
    if (typeof session.token !== "string" || session.expiresAt <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function endSession(reason: EndReason): void {
  const had = sessionStorage.getItem(KEY) !== null;
  sessionStorage.removeItem(KEY);
  if (had || reason === "logout") {
    window.dispatchEvent(new CustomEvent<EndReason>(SESSION_ENDED, { detail: reason }));
  }
}

export function currentToken(): string | null {
  return loadSession()?.token ?? null;
}
