import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  createStore,
  listStores,
  testConnection,
  updateStore,
  type StoreCreate,
  type StoreRecord,
  type StoreUpdate,
} from "../api/settings";
import { queryKeys } from "./queryKeys";

// Stores change only through these forms, so no live event is needed: each change refreshes
// the list and the sync overview (which names the stores).
const storeKeys = { list: [...queryKeys.stores, "list"] as const };

/** Every store with its settings (GET /api/shopify/stores): any role may read them. */
export function useStoreList() {
  return useQuery({
    queryKey: storeKeys.list,
    queryFn: ({ signal }) => listStores(signal),
  });
}

export function useStoreChanged() {
  const client = useQueryClient();
  return (store?: StoreRecord) => {
    if (store) {
      client.setQueryData<StoreRecord[]>(storeKeys.list, (stores) =>
        stores?.some((s) => s.id === store.id)
          ? stores.map((s) => (s.id === store.id ? store : s))
          : stores,
      );
    }
    void client.invalidateQueries({ queryKey: queryKeys.stores });
    void client.invalidateQueries({ queryKey: queryKeys.syncStatus });
  };
}

export function useCreateStore() {
  const changed = useStoreChanged();
  return useMutation({
    mutationFn: (body: StoreCreate) => createStore(body),
    onSuccess: (store) => changed(store),
  });
}

export function useUpdateStore(storeId: number) {
  const changed = useStoreChanged();
  return useMutation({
    mutationFn: (body: StoreUpdate) => updateStore(storeId, body),
    onSuccess: (store) => changed(store),
  });
}

/** Ask the shop for its name, plan and throttle bucket; the store's plan is kept. */
export function useTestConnection(storeId: number) {
  const changed = useStoreChanged();
  return useMutation({
    mutationFn: () => testConnection(storeId),
    onSuccess: () => changed(),
  });
}
