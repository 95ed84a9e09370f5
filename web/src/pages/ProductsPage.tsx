// Scaffold: replaced by the page's owner in this change.
import { Title } from "@mantine/core";

export function ProductsPage() {
  return <Title order={2}>ProductsPage</Title>;
}
