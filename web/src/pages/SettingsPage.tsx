// Scaffold: replaced by the page's owner in this change.
import { Title } from "@mantine/core";

export function SettingsPage() {
  return <Title order={2}>SettingsPage</Title>;
}
