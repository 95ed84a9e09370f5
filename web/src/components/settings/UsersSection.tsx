import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Loader,
  PasswordInput,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import { ROLE_LABELS, ROLES, type UserRecord } from "../../api/settings";
import type { Role } from "../../api/types";
import { useAuth } from "../../auth/context";
import { usePermissions } from "../../auth/permissions";
import { ago } from "../../format";
import { useCreateUser, useUpdateUser, useUserList } from "../../hooks/useUsers";
import { OnlyAdmins } from "./OnlyAdmins";

const ROLE_OPTIONS = ROLES.map((role) => ({ value: role, label: ROLE_LABELS[role] }));
const ROLE_SHORT = ROLES.map((role) => ({ value: role, label: role }));

function CreateUserForm() {
  const create = useCreateUser();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { email: email.trim(), name: name.trim(), password, role },
      {
        onSuccess: (user) => {
          setEmail("");
          setName("");
          setPassword("");
          setRole("viewer");
          notifications.show({
            color: "green",
            title: `${user.email} can now sign in`,
            message: `Role: ${user.role}. Give them their password in person.`,
          });
        },
      },
    );
  };

  return (
    <Card withBorder padding="md" component="form" onSubmit={submit} aria-label="Add a user">
      <Stack gap="sm">
        <Title order={4}>Add a user</Title>
        <Group grow wrap="wrap" align="flex-start">
          <TextInput
            label="Email"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            required
            miw={220}
            autoComplete="off"
          />
          <TextInput
            label="Name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            miw={180}
          />
        </Group>
        <Group grow wrap="wrap" align="flex-start">
          <PasswordInput
            label="Password"
            description="At least 10 characters."
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            required
            miw={220}
            autoComplete="new-password"
          />
          <Select
            label="Role"
            data={ROLE_OPTIONS}
            value={role}
            onChange={(value) => value && setRole(value as Role)}
            allowDeselect={false}
            miw={220}
          />
        </Group>
        {create.error && (
          <Alert color="red" title="The user was not added">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={create.isPending}>
            Add user
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function UserRow({ user, isMe }: { user: UserRecord; isMe: boolean }) {
  const update = useUpdateUser();
  return (
    <Table.Tr>
      <Table.Td>
        <Text size="sm">{user.email}</Text>
        {user.name && (
          <Text size="xs" c="dimmed">
            {user.name}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Select
          aria-label={`Role of ${user.email}`}
          data={ROLE_SHORT}
          value={user.role}
          onChange={(value) =>
            value && value !== user.role && update.mutate({ userId: user.id, role: value as Role })
          }
          allowDeselect={false}
          disabled={update.isPending}
          w={130}
        />
      </Table.Td>
      <Table.Td>
        <Badge color={user.is_active ? "green" : "gray"} variant="light">
          {user.is_active ? "active" : "deactivated"}
        </Badge>
      </Table.Td>
      <Table.Td title={user.last_login_at ?? undefined}>{ago(user.last_login_at)}</Table.Td>
      <Table.Td>
        <Stack gap={4}>
          <Button
            size="xs"
            variant={user.is_active ? "light" : "default"}
            color={user.is_active ? "red" : "gray"}
            onClick={() => update.mutate({ userId: user.id, is_active: !user.is_active })}
            loading={update.isPending}
            disabled={isMe && user.is_active}
            title={isMe && user.is_active ? "You cannot deactivate yourself." : undefined}
            aria-label={`${user.is_active ? "Deactivate" : "Reactivate"} ${user.email}`}
          >
            {user.is_active ? "Deactivate" : "Reactivate"}
          </Button>
          {update.error && (
            <Text size="xs" c="red" role="alert">
              {errorMessage(update.error)}
            </Text>
          )}
        </Stack>
      </Table.Td>
    </Table.Tr>
  );
}

/** Users and roles (admins only): add, change a role, deactivate. */
export function UsersSection() {
  const { isAdmin } = usePermissions();
  const me = useAuth().session?.user.id;
  const users = useUserList(isAdmin);
  if (!isAdmin) return <OnlyAdmins>Only admins can see and manage users.</OnlyAdmins>;
  if (users.isPending) return <Loader size="sm" aria-label="Loading users" />;
  if (users.error)
    return (
      <Alert color="red" title="The users could not be loaded">
        {errorMessage(users.error)}
      </Alert>
    );
  return (
    <Stack>
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="Users" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>User</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Last sign-in</Table.Th>
              <Table.Th>Access</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {users.data.map((user) => (
              <UserRow key={user.id} user={user} isMe={user.id === me} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <CreateUserForm />
    </Stack>
  );
}
