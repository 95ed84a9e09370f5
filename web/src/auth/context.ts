import { createContext, useContext } from "react";
import type { LoginRequest } from "../api/types";
import type { EndReason, Session } from "./session";

export interface AuthState {
  session: Session | null;
  endedBecause: EndReason | null;
  login: (credentials: LoginRequest) => Promise<void>;
  logout: () => void;
}

export const AuthContext = createContext<AuthState | null>(null);

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (state === null) throw new Error("useAuth outside <AuthProvider>");
  return state;
}
