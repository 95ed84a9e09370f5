// Scaffold: replaced by the page's owner in this change.
import { Title } from "@mantine/core";

export function ParallelSyncControl() {
  return <Title order={2}>ParallelSyncControl</Title>;
}
