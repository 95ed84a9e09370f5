// Settings: Shopify stores and their connection test (src/cowans/api/routers/stores.py), users
// and roles (users.py), approval rules per store, and the caller's own API tokens (auth.py).
// Secrets (access tokens, webhook secrets) are sent, never received: the API answers only
// whether one is set.

import { api } from "./client";
import type { Role } from "./types";

export const ROLES: Role[] = ["viewer", "editor", "approver", "admin"];

export const ROLE_LABELS: Record<Role, string> = {
  viewer: "Viewer — reads everything",
  editor: "Editor — edits the catalog, runs imports and batches",
  approver: "Approver — editor, plus approves and pushes to Shopify",
  admin: "Admin — everything, plus users and stores",
};

export interface StoreWebhooks {
  subscribed: string[];
  callback_url: string;
  error: string | null;
  error_code: string | null;
}

export type ApprovalRule =
  { kind: "stock_only" } | { kind: "price_within_percent"; percent: number };

export interface StoreRecord {
  id: number;
  name: string;
  shop_domain: string;
  api_version: string;
  admin_url: string;
  custom_admin_url: boolean;
  location_map: Record<string, string>;
  plan: string;
  is_active: boolean;
  has_access_token: boolean;
  has_webhook_secret: boolean;
  webhooks: StoreWebhooks;
  approval_rules: ApprovalRule[];
  last_pull_at: string | null;
  last_push_at: string | null;
}

export interface StoreCreate {
  name: string;
  shop_domain: string;
  access_token: string;
  api_version?: string;
  admin_url?: string;
  location_map?: Record<string, string>;
  webhook_secret?: string;
}

export interface StoreUpdate {
  name?: string;
  access_token?: string;
  api_version?: string;
  admin_url?: string | null;
  location_map?: Record<string, string>;
  is_active?: boolean;
  webhook_secret?: string;
}

export interface Throttle {
  currently_available: number;
  maximum_available: number;
  restore_rate: number;
}

export interface ConnectionTest {
  ok: boolean;
  shop_name: string | null;
  plan: string | null;
  throttle: Throttle | null;
  myshopify_domain: string | null;
  shopify_plus: boolean | null;
  error: string | null;
  error_code: string | null;
  elapsed_ms: number;
  webhooks: StoreWebhooks | null;
}

export interface UserRecord {
  id: number;
  email: string;
  name: string;
  role: Role;
  is_active: boolean;
  created_at: string;
  last_login_at: string | null;
}

export interface UserCreate {
  email: string;
  password: string;
  role: Role;
  name: string;
}

export interface UserUpdate {
  role?: Role;
  is_active?: boolean;
}

export interface ApiToken {
  id: number;
  name: string;
  token_prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ApiTokenCreated {
  token: string;
  id: number;
  name: string;
  expires_at: string | null;
}

const STORES = "/api/shopify/stores";
const signalOf = (signal?: AbortSignal) => (signal ? { signal } : {});

export const listStores = (signal?: AbortSignal) => api<StoreRecord[]>(STORES, signalOf(signal));

export const createStore = (body: StoreCreate) =>
  api<StoreRecord>(STORES, { method: "POST", body });

export const updateStore = (storeId: number, body: StoreUpdate) =>
  api<StoreRecord>(`${STORES}/${storeId}`, { method: "PATCH", body });

export const testConnection = (storeId: number) =>
  api<ConnectionTest>(`${STORES}/${storeId}/test-connection`, { method: "POST" });

export const setApprovalRules = (storeId: number, rules: ApprovalRule[]) =>
  api<StoreRecord>(`${STORES}/${storeId}/approval-rules`, { method: "PUT", body: { rules } });

export const listUsers = (signal?: AbortSignal) =>
  api<UserRecord[]>("/api/users", signalOf(signal));

export const createUser = (body: UserCreate) =>
  api<UserRecord>("/api/users", { method: "POST", body });

export const updateUser = (userId: number, body: UserUpdate) =>
  api<UserRecord>(`/api/users/${userId}`, { method: "PATCH", body });

export const listApiTokens = (signal?: AbortSignal) =>
  api<ApiToken[]>("/api/auth/tokens", signalOf(signal));

export const createApiToken = (name: string, expiresInDays: number | null) =>
  api<ApiTokenCreated>("/api/auth/tokens", {
    method: "POST",
    body: expiresInDays === null ? { name } : { name, expires_in_days: expiresInDays },
  });

export const revokeApiToken = (tokenId: number) =>
  api<ApiToken>(`/api/auth/tokens/${tokenId}`, { method: "DELETE" });
