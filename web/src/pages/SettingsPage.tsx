import { Stack, Tabs, Title } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import { ApiTokensSection } from "../components/settings/ApiTokensSection";
import { ApprovalRulesSection } from "../components/settings/ApprovalRulesSection";
import { StoresSection } from "../components/settings/StoresSection";
import { UsersSection } from "../components/settings/UsersSection";

const TABS = [
  { value: "stores", label: "Stores" },
  { value: "users", label: "Users" },
  { value: "rules", label: "Approval rules" },
  { value: "tokens", label: "My API tokens" },
] as const;
type Tab = (typeof TABS)[number]["value"];

/** Stores, users and roles, approval rules, and the person's own API tokens. The open tab is
 * in the URL (`?tab=users`). */
export function SettingsPage() {
  const [params, setParams] = useSearchParams();
  const asked = params.get("tab");
  const tab: Tab = TABS.find((t) => t.value === asked)?.value ?? "stores";
  return (
    <Stack>
      <Title order={2}>Settings</Title>
      <Tabs
        value={tab}
        onChange={(value) => value && setParams({ tab: value }, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List>
          {TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="stores" pt="md">
          <StoresSection />
        </Tabs.Panel>
        <Tabs.Panel value="users" pt="md">
          <UsersSection />
        </Tabs.Panel>
        <Tabs.Panel value="rules" pt="md">
          <ApprovalRulesSection />
        </Tabs.Panel>
        <Tabs.Panel value="tokens" pt="md">
          <ApiTokensSection />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
