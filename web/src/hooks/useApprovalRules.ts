import { useMutation } from "@tanstack/react-query";
import { setApprovalRules, type ApprovalRule } from "../api/settings";
import { useStoreChanged } from "./useStores";

/** Replace a store's approval rules (an empty list: a person approves everything). */
export function useSetApprovalRules(storeId: number) {
  const changed = useStoreChanged();
  return useMutation({
    mutationFn: (rules: ApprovalRule[]) => setApprovalRules(storeId, rules),
    onSuccess: (store) => changed(store),
  });
}
