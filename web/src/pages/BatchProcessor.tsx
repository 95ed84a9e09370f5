// Scaffold: replaced by the page's owner in this change.
import { Title } from "@mantine/core";

export function BatchProcessor() {
  return <Title order={2}>BatchProcessor</Title>;
}
