// Who is logged in, for the whole app. The session ends on logout, on any 401 (the client calls
// endSession) and when the token's lifetime runs out, even with no request in flight; while the
// person works, the token is renewed before that (up to the server's SESSION_MAX_HOURS).

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api } from "../api/client";
import type { LoginRequest, LoginResponse } from "../api/types";
import { AuthContext, type AuthState } from "./context";
import {
  endSession,
  loadSession,
  saveSession,
  sessionFrom,
  SESSION_ENDED,
  type EndReason,
  type Session,
} from "./session";

// What counts as someone working: a click, a tap or a key.
const ACTIVITY_EVENTS = ["pointerdown", "keydown"] as const;

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | null>(loadSession);
  const [endedBecause, setEndedBecause] = useState<EndReason | null>(null);

  useEffect(() => {
    const onEnded = (event: Event) => {
      setSession(null);
      setEndedBecause((event as CustomEvent<EndReason>).detail);
      queryClient.clear(); // nothing of the last user stays in memory
    };
    window.addEventListener(SESSION_ENDED, onEnded);
    return () => window.removeEventListener(SESSION_ENDED, onEnded);
  }, [queryClient]);

  useEffect(() => {
    if (!session) return;
    const timer = window.setTimeout(
      () => endSession("expired"),
      Math.max(0, session.expiresAt - Date.now()),
    );
    return () => window.clearTimeout(timer);
  }, [session]);

  // Renew the token while the person works: on their input (not on the dashboard's own
  // polling), once the token is old enough. A failed renewal is tried again on the next input;
  // a refused one (401) ends the session through the API client.
  const renewing = useRef(false);
  useEffect(() => {
    if (!session) return;
    const renewIfDue = () => {
      if (renewing.current || Date.now() < session.renewAt || Date.now() >= session.expiresAt) {
        return;
      }
      renewing.current = true;
      api<LoginResponse>("/api/auth/refresh", { method: "POST" })
        .then((answer) => {
          if (loadSession()?.token !== session.token) return; // logged out meanwhile
          const next = sessionFrom(answer, session);
          saveSession(next);
          setSession(next);
        })
        .catch(() => undefined)
        .finally(() => {
          renewing.current = false;
        });
    };
    for (const name of ACTIVITY_EVENTS) {
      window.addEventListener(name, renewIfDue, { passive: true, capture: true });
    }
    return () => {
      for (const name of ACTIVITY_EVENTS) {
        window.removeEventListener(name, renewIfDue, { capture: true });
      }
    };
  }, [session]);

  const login = useCallback(async (credentials: LoginRequest) => {
    const answer = await api<LoginResponse>("/api/auth/login", {
      method: "POST",
      body: credentials,
      anonymous: true,
    });
    const next = sessionFrom(answer);
    saveSession(next);
    setEndedBecause(null);
    setSession(next);
  }, []);

  const logout = useCallback(() => endSession("logout"), []);

  const value = useMemo<AuthState>(
    () => ({ session, endedBecause, login, logout }),
    [session, endedBecause, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
