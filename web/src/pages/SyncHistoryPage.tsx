// Scaffold: replaced by the page's owner in this change.
import { Title } from "@mantine/core";

export function SyncHistoryPage() {
  return <Title order={2}>SyncHistoryPage</Title>;
}
