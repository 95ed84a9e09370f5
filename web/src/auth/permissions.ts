// What each role may do, as API.md grants it. The dashboard hides or disables what a role may
// not do; the API refuses it anyway, so this is about clarity, not security.
import type { Role } from "../api/types";
import { useAuth } from "./context";

const RANK: Record<Role, number> = { viewer: 0, editor: 1, approver: 2, admin: 3 };

export interface Permissions {
  /** Edit the catalog, stage changes, run imports and batches. */
  canEdit: boolean;
  /** Approve or reject staged changes, push to Shopify, pull from it. */
  canApprove: boolean;
  /** Users, stores and settings. */
  isAdmin: boolean;
}

export function permissionsOf(role: Role | undefined): Permissions {
  const rank = role === undefined ? -1 : RANK[role];
  return {
    canEdit: rank >= RANK.editor,
    canApprove: rank >= RANK.approver,
    isAdmin: rank >= RANK.admin,
  };
}

export function usePermissions(): Permissions {
  return permissionsOf(useAuth().session?.user.role);
}
