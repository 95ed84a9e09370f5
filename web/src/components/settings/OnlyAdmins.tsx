import { Text } from "@mantine/core";

/** What a non-admin sees where admins have controls. */
export function OnlyAdmins({ children }: { children: string }) {
  return (
    <Text size="sm" c="dimmed" role="note">
      {children}
    </Text>
  );
}
