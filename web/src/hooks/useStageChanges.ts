import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { errorMessage } from "../api/client";
import { stageChanges, stagedMessage, type StageRequest } from "../api/staging";
import { queryKeys } from "./queryKeys";

/** Stage differences now, and say what came of it. The staged.changed event refreshes the
 * lists too; invalidating here makes the person's own click show at once. */
export function useStageChanges() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (request: StageRequest) => stageChanges(request),
    onSuccess: (result) => {
      notifications.show({ color: "green", title: "Staged", message: stagedMessage(result) });
      for (const key of [queryKeys.staged, queryKeys.products, queryKeys.syncStatus])
        void client.invalidateQueries({ queryKey: key });
    },
    onError: (error) =>
      notifications.show({ color: "red", title: "Nothing staged", message: errorMessage(error) }),
  });
}
