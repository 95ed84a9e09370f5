import { AppShell, Badge, Button, Group, NavLink, Text, Title } from "@mantine/core";
import { Link, Outlet, useLocation } from "react-router-dom";
import { useAuth } from "../auth/context";
import { useLiveEvents, type LiveStatus } from "../hooks/useLiveEvents";

// Only pages that exist: add a line here with each new page.
const PAGES = [{ to: "/", label: "Sync overview" }];

const LIVE_BADGE: Record<LiveStatus, { color: string; label: string }> = {
  live: { color: "green", label: "Live" },
  connecting: { color: "yellow", label: "Connecting…" },
  offline: { color: "red", label: "Offline — retrying" },
};

/** The frame of every signed-in page: header, navigation, and the live-event connection. */
export function Shell() {
  const { session, logout } = useAuth();
  const live = LIVE_BADGE[useLiveEvents(session?.token ?? null)];
  const { pathname } = useLocation();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm" }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Title order={4}>Cowans Product Management</Title>
          <Group gap="sm">
            <Badge color={live.color} variant="light">
              {live.label}
            </Badge>
            <Text size="sm" c="dimmed">
              {session?.user.email} ({session?.user.role})
            </Text>
            <Button size="xs" variant="default" onClick={logout}>
              Log out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {PAGES.map((page) => (
          <NavLink
            key={page.to}
            component={Link}
            to={page.to}
            label={page.label}
            active={pathname === page.to}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
