// Scaffold: replaced by the page's owner in this change.
import { Title } from "@mantine/core";

export function ProductDetailPage() {
  return <Title order={2}>ProductDetailPage</Title>;
}
