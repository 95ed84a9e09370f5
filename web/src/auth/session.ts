// The login session, kept in sessionStorage: it dies with the tab, and never sits in a cookie
// another site could ride on. Anything that changes it tells the app through one window event.

import type { User } from "../api/types";

const KEY = "cowans.session";
export const SESSION_ENDED = "cowans:session-ended";

export interface Session {
  token: string;
  expiresAt: number; // epoch milliseconds
  // From then on, the next sign of the person working renews the token (POST
  // /api/auth/refresh). At expiresAt it is never renewed: an idle tab's session runs out.
  renewAt: number;
  user: User;
}

// Renew once 80% of a token's lifetime has passed: early enough that a slow answer still
// arrives before it expires, late enough that a busy person renews a few times an hour at most.
const RENEW_AFTER = 0.8;

/** The session an access token answer (login or refresh) starts. A renewal that no longer
 * extends the session (its server-side maximum reached) schedules no further renewal. */
export function sessionFrom(
  answer: { access_token: string; expires_in: number; user: User },
  previous: Session | null = null,
): Session {
  const now = Date.now();
  const expiresAt = now + answer.expires_in * 1000;
  const extendsSession = previous === null || expiresAt > previous.expiresAt + 60_000;
  return {
    token: answer.access_token,
    expiresAt,
    renewAt: extendsSession ? now + answer.expires_in * 1000 * RENEW_AFTER : expiresAt,
    user: answer.user,
  };
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
    if (typeof session.renewAt !== "number") session.renewAt = session.expiresAt;
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
