import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Loader,
  NumberInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import type { ApiToken, ApiTokenCreated } from "../../api/settings";
import { ago } from "../../format";
import { useApiTokens, useCreateApiToken, useRevokeApiToken } from "../../hooks/useUsers";

function status(token: ApiToken, now: number): { label: string; color: string } {
  if (token.revoked_at) return { label: "revoked", color: "gray" };
  if (token.expires_at && new Date(token.expires_at).getTime() <= now)
    return { label: "expired", color: "gray" };
  return { label: "active", color: "green" };
}

function NewToken({ created, onDismiss }: { created: ApiTokenCreated; onDismiss: () => void }) {
  return (
    <Alert
      color="yellow"
      title={`Token "${created.name}" created`}
      withCloseButton
      onClose={onDismiss}
    >
      <Stack gap="xs">
        <Text size="sm">Copy it now: it is shown only this once.</Text>
        <Code block aria-label="New API token" style={{ overflowWrap: "anywhere" }}>
          {created.token}
        </Code>
        <Group>
          <CopyButton value={created.token}>
            {({ copied, copy }) => (
              <Button size="xs" color={copied ? "teal" : "blue"} onClick={copy}>
                {copied ? "Copied" : "Copy token"}
              </Button>
            )}
          </CopyButton>
          <Text size="xs" c="dimmed">
            Scripts send it as <Code>Authorization: Bearer …</Code>
          </Text>
        </Group>
      </Stack>
    </Alert>
  );
}

function TokenRow({ token, now }: { token: ApiToken; now: number }) {
  const revoke = useRevokeApiToken();
  const [confirming, setConfirming] = useState(false);
  const state = status(token, now);
  return (
    <Table.Tr>
      <Table.Td>{token.name}</Table.Td>
      <Table.Td>
        <Code>{token.token_prefix}…</Code>
      </Table.Td>
      <Table.Td title={token.created_at}>{ago(token.created_at)}</Table.Td>
      <Table.Td title={token.expires_at ?? undefined}>
        {token.expires_at ? ago(token.expires_at) : "never"}
      </Table.Td>
      <Table.Td title={token.last_used_at ?? undefined}>{ago(token.last_used_at)}</Table.Td>
      <Table.Td>
        <Badge color={state.color} variant="light">
          {state.label}
        </Badge>
      </Table.Td>
      <Table.Td>
        {state.label === "active" &&
          (confirming ? (
            <Group gap={4} wrap="nowrap">
              <Button
                size="xs"
                color="red"
                loading={revoke.isPending}
                onClick={() => revoke.mutate(token.id)}
                aria-label={`Confirm revoking ${token.name}`}
              >
                Revoke now
              </Button>
              <Button size="xs" variant="default" onClick={() => setConfirming(false)}>
                Keep
              </Button>
            </Group>
          ) : (
            <Button
              size="xs"
              variant="default"
              onClick={() => setConfirming(true)}
              aria-label={`Revoke ${token.name}`}
            >
              Revoke
            </Button>
          ))}
        {revoke.error && (
          <Text size="xs" c="red" role="alert">
            {errorMessage(revoke.error)}
          </Text>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

/** The signed-in person's API tokens, for scripts: create (shown once), list, revoke. */
export function ApiTokensSection() {
  const tokens = useApiTokens();
  const create = useCreateApiToken();
  const [name, setName] = useState("");
  const [days, setDays] = useState<number | string>("");
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), days: days === "" ? null : Number(days) },
      {
        onSuccess: (token) => {
          setCreated(token);
          setName("");
          setDays("");
        },
      },
    );
  };
  const now = Date.now();

  return (
    <Stack>
      <Text size="sm" c="dimmed">
        A token lets a script call the API as you, with your role. Revoke it when the script no
        longer needs it.
      </Text>
      {created && <NewToken created={created} onDismiss={() => setCreated(null)} />}
      <Card
        withBorder
        padding="md"
        component="form"
        onSubmit={submit}
        aria-label="Create an API token"
      >
        <Stack gap="sm">
          <Title order={4}>Create a token</Title>
          <Group align="flex-end" wrap="wrap">
            <TextInput
              label="Token name"
              placeholder="nightly export script"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              required
              w={280}
              maw="100%"
            />
            <NumberInput
              label="Expires after (days)"
              placeholder="default"
              value={days}
              onChange={setDays}
              min={1}
              max={3650}
              allowDecimal={false}
              w={180}
            />
            <Button type="submit" loading={create.isPending}>
              Create token
            </Button>
          </Group>
          {create.error && (
            <Alert color="red" title="No token was created">
              {errorMessage(create.error)}
            </Alert>
          )}
        </Stack>
      </Card>
      {tokens.isPending ? (
        <Loader size="sm" aria-label="Loading your tokens" />
      ) : tokens.error ? (
        <Alert color="red" title="Your tokens could not be loaded">
          {errorMessage(tokens.error)}
        </Alert>
      ) : tokens.data.length === 0 ? (
        <Text size="sm" c="dimmed">
          You have no API tokens.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table aria-label="My API tokens" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Starts with</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Revoke</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {tokens.data.map((token) => (
                <TokenRow key={token.id} token={token} now={now} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
