import { Text } from "@mantine/core";

/** Why a control is missing or disabled, so nobody wonders where the button went. */
export function PermissionNote({ children }: { children: string }) {
  return (
    <Text size="sm" c="dimmed" role="note">
      {children}
    </Text>
  );
}
