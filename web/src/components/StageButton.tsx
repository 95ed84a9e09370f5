import { Button } from "@mantine/core";
import { usePermissions } from "../auth/permissions";
import { useStageChanges } from "../hooks/useStageChanges";

/** Stage what differs between the catalog and one store, for some products or all of them.
 * Editors and up; hidden for viewers (the API refuses them too). */
export function StageButton({
  storeId,
  storeName,
  productIds,
  label,
}: {
  storeId: number;
  storeName: string;
  productIds?: number[];
  label: string;
}) {
  const { canEdit } = usePermissions();
  const stage = useStageChanges();
  if (!canEdit) return null;
  return (
    <Button
      size="xs"
      variant="light"
      loading={stage.isPending}
      aria-label={`${label} for ${storeName}`}
      onClick={() =>
        stage.mutate(
          productIds === undefined
            ? { store_id: storeId }
            : { store_id: storeId, product_ids: productIds },
        )
      }
    >
      {label}
    </Button>
  );
}
