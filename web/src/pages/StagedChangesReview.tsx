// Scaffold: replaced by the page's owner in this change.
import { Title } from "@mantine/core";

export function StagedChangesReview() {
  return <Title order={2}>StagedChangesReview</Title>;
}
