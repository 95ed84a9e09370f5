// Who is logged in, for the whole app. The session ends on logout, on any 401 (the client calls
// endSession) and when the token's lifetime runs out, even with no request in flight.

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "../api/client";
import type { LoginRequest, LoginResponse } from "../api/types";
import { AuthContext, type AuthState } from "./context";
import {
  endSession,
  loadSession,
  saveSession,
  SESSION_ENDED,
  type EndReason,
  type Session,
} from "./session";

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

  const login = useCallback(async (credentials: LoginRequest) => {
    const answer = await api<LoginResponse>("/api/auth/login", {
      method: "POST",
      body: credentials,
      anonymous: true,
    });
    const next: Session = {
      token: answer.access_token,
      expiresAt: Date.now() + answer.expires_in * 1000,
      user: answer.user,
    };
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
