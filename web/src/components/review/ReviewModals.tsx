// The review's two dialogs: the keyboard shortcuts, and the question before a big decision.
import { Button, Group, Kbd, Modal, Stack, Table, Text } from "@mantine/core";
import { SHORTCUTS } from "../../hooks/useReviewShortcuts";
import type { PendingDecision } from "../../hooks/useReviewDecisions";
import { count } from "../../format";

export function ShortcutsModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  return (
    <Modal opened={opened} onClose={onClose} title="Keyboard shortcuts">
      <Table>
        <Table.Tbody>
          {SHORTCUTS.map((shortcut) => (
            <Table.Tr key={shortcut.what}>
              <Table.Td>
                <Group gap={4}>
                  {shortcut.keys.map((key) => (
                    <Kbd key={key}>{key}</Kbd>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>{shortcut.what}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed" mt="sm">
        Shortcuts pause while you type in a field.
      </Text>
    </Modal>
  );
}

export function ConfirmDecisionModal({
  pending,
  filterWords,
  onConfirm,
  onCancel,
}: {
  pending: PendingDecision | null;
  filterWords: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const approve = pending?.decision === "approve";
  const verb = approve ? "Approve" : "Reject";
  const size = pending ? count(pending.size, "change") : "";
  return (
    <Modal opened={pending !== null} onClose={onCancel} title={`${verb} ${size}?`}>
      <Stack gap="sm">
        {pending?.everyMatching ? (
          <Text size="sm">
            This {approve ? "approves" : "rejects"} every change matching the filters ({filterWords}
            ), including those not loaded on screen. Changes staged after the list was loaded are
            left alone.
          </Text>
        ) : (
          <Text size="sm">
            This {approve ? "approves" : "rejects"} the {size} you selected.
          </Text>
        )}
        {approve ? (
          <Text size="sm" c="dimmed">
            Conflicts without a choice for each field stay conflicts. Approved changes are sent with
            the next push.
          </Text>
        ) : (
          <Text size="sm" c="dimmed">
            Rejected pushes are not sent; rejected pulls are not taken into the catalog.
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button color={approve ? "teal" : "red"} onClick={onConfirm} data-autofocus>
            {verb} {size}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
