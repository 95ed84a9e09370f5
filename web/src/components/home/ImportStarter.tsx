import { Alert, Button, Card, FileInput, Group, Stack, Text } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import type { ImportKind } from "../../api/imports";
import { usePermissions } from "../../auth/permissions";
import { useStartImport } from "../../hooks/useImports";
import { PermissionNote } from "./PermissionNote";

/** Start an import: upload a file, or fetch from the kind's own source. Editors and up. */
export function ImportStarter({
  kind,
  fileLabel,
  accept,
  remoteLabel,
  remoteHint,
}: {
  kind: ImportKind;
  fileLabel: string;
  accept: string;
  remoteLabel: string;
  remoteHint: string;
}) {
  const { canEdit } = usePermissions();
  const start = useStartImport(kind);
  const [file, setFile] = useState<File | null>(null);
  if (!canEdit)
    return <PermissionNote>Only editors, approvers and admins can run imports.</PermissionNote>;

  const upload = (event: FormEvent) => {
    event.preventDefault();
    if (file) start.mutate({ file }, { onSuccess: () => setFile(null) });
  };
  const busy = start.isPending;
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <form onSubmit={upload} aria-label={`Upload a ${kind} file`}>
          <Group align="flex-end" wrap="wrap">
            <FileInput
              label={fileLabel}
              placeholder="Choose a file"
              accept={accept}
              value={file}
              onChange={setFile}
              clearable
              w={320}
              maw="100%"
            />
            <Button type="submit" disabled={file === null} loading={busy && file !== null}>
              Import file
            </Button>
          </Group>
        </form>
        <Group gap="sm" wrap="wrap">
          <Text size="sm" c="dimmed">
            or
          </Text>
          <Button
            variant="light"
            onClick={() => start.mutate({ remote: true })}
            loading={busy && file === null}
            disabled={busy}
          >
            {remoteLabel}
          </Button>
          <Text size="sm" c="dimmed">
            {remoteHint}
          </Text>
        </Group>
        {start.error && (
          <Alert color="red" title="The import did not start">
            {errorMessage(start.error)}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}
