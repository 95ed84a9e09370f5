// One product: its detail and history, edits (which lock the field) and lock releases. Live
// events invalidate queryKeys.products when a job finishes; a product's sync status also moves
// when staged changes are decided, which no job reports, so the detail also refetches every
// 15 s while it is shown (see the report: staged.changed should invalidate products too).
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage } from "../api/client";
import {
  editProduct,
  getProduct,
  productHistory,
  releaseLock,
  type ProductDetail,
  type ProductEdit,
} from "../api/products";
import { queryKeys } from "./queryKeys";

export function productKey(id: number) {
  return [...queryKeys.products, "detail", id] as const;
}

export function useProduct(id: number) {
  return useQuery({
    queryKey: productKey(id),
    queryFn: ({ signal }) => getProduct(id, signal),
  });
}

export function useProductHistory(id: number, enabled: boolean) {
  return useQuery({
    queryKey: [...queryKeys.products, "history", id],
    queryFn: ({ signal }) => productHistory(id, signal),
    enabled,
  });
}

/** After an edit or a release: the detail is the answer; the list and history move too. */
function useSettle(id: number) {
  const client = useQueryClient();
  return (detail: ProductDetail) => {
    client.setQueryData(productKey(id), detail);
    void client.invalidateQueries({ queryKey: queryKeys.products });
  };
}

export function useEditProduct(id: number) {
  const settle = useSettle(id);
  return useMutation({
    mutationFn: (edit: ProductEdit) => editProduct(id, edit),
    onSuccess: (detail, edit) => {
      settle(detail);
      const fields = Object.keys(edit).join(", ");
      notifications.show({
        color: "green",
        title: "Saved",
        message: `${fields} saved and locked: imports keep your value until you release it.`,
      });
    },
  });
}

export function useReleaseLock(id: number) {
  const settle = useSettle(id);
  return useMutation({
    mutationFn: (field: string) => releaseLock(id, field),
    onSuccess: (detail, field) => {
      settle(detail);
      notifications.show({
        color: "green",
        title: "Lock released",
        message: `The feeds own ${field} again; the next import brings their value back.`,
      });
    },
    onError: (error) =>
      notifications.show({
        color: "red",
        title: "Could not release",
        message: errorMessage(error),
      }),
  });
}
