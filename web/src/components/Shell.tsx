import {
  AppShell,
  Badge,
  Burger,
  Button,
  Center,
  Group,
  Loader,
  NavLink,
  Text,
  Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Suspense } from "react";
import { Link, Outlet, useLocation } from "react-router-dom";
import { useAuth } from "../auth/context";
import { useLiveEvents, type LiveStatus } from "../hooks/useLiveEvents";

// The pages, in the order of a day's work: import and pull, review, push, watch, then the rest.
const PAGES = [
  { to: "/", label: "Sync overview" },
  { to: "/review", label: "Review changes" },
  { to: "/push", label: "Push to Shopify" },
  { to: "/workers", label: "Workers" },
  { to: "/products", label: "Products" },
  { to: "/batch", label: "Batch edits" },
  { to: "/history", label: "Sync history" },
  { to: "/settings", label: "Settings" },
];

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
  const [navOpen, nav] = useDisclosure(false);
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 200, breakpoint: "sm", collapsed: { mobile: !navOpen } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Burger
              opened={navOpen}
              onClick={nav.toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Title order={4}>Cowans Product Management</Title>
          </Group>
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
            onClick={nav.close}
            active={page.to === "/" ? pathname === "/" : pathname.startsWith(page.to)}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        {/* pages other than the home page load on first visit (App.tsx): the frame stays */}
        <Suspense
          fallback={
            <Center p="xl">
              <Loader aria-label="Loading the page" />
            </Center>
          }
        >
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
