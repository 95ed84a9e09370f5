import { Tabs } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import type { StagedCounts, StoreSyncStatus } from "../../api/types";
import { ImportReport } from "./ImportReport";
import { ImportsPanel } from "./ImportsPanel";
import { ShopifyDownPanel } from "./ShopifyDownPanel";
import { ShopifyUpPanel } from "./ShopifyUpPanel";
import { StagedChangesPanel } from "./StagedChangesPanel";

const TABS = [
  { value: "down", label: "Shopify Down" },
  { value: "staged", label: "Staged Changes" },
  { value: "up", label: "Shopify Up" },
  { value: "etilize", label: "Etilize" },
  { value: "xorosoft", label: "Xorosoft" },
] as const;
type Tab = (typeof TABS)[number]["value"];

function isTab(value: string | null): value is Tab {
  return TABS.some((tab) => tab.value === value);
}

/** The day's work below the overview, one tab per step. The open tab and report are in the
 * URL (`?tab=etilize&report=12`), so a link or a reload lands on the same view. */
export function HomeTabs({ stores, staged }: { stores: StoreSyncStatus[]; staged: StagedCounts }) {
  const [params, setParams] = useSearchParams();
  const tab: Tab = isTab(params.get("tab")) ? (params.get("tab") as Tab) : "staged";
  const report = Number(params.get("report")) || null;
  const storeNames = new Map(stores.map((s) => [s.store_id, s.name]));

  const update = (changes: Record<string, string | null>) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [name, value] of Object.entries(changes)) {
          if (value === null) next.delete(name);
          else next.set(name, value);
        }
        return next;
      },
      { replace: true },
    );
  };
  const openReport = (importId: number) => update({ report: String(importId) });

  return (
    <>
      <Tabs
        value={tab}
        onChange={(value) => update({ tab: value, report: null })}
        keepMounted={false}
      >
        <Tabs.List>
          {TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="down" pt="md">
          <ShopifyDownPanel stores={stores} storeNames={storeNames} />
        </Tabs.Panel>
        <Tabs.Panel value="staged" pt="md">
          <StagedChangesPanel stores={stores} staged={staged} />
        </Tabs.Panel>
        <Tabs.Panel value="up" pt="md">
          <ShopifyUpPanel stores={stores} storeNames={storeNames} />
        </Tabs.Panel>
        <Tabs.Panel value="etilize" pt="md">
          <ImportsPanel kind="etilize" onOpenReport={openReport} />
        </Tabs.Panel>
        <Tabs.Panel value="xorosoft" pt="md">
          <ImportsPanel kind="xorosoft" onOpenReport={openReport} />
        </Tabs.Panel>
      </Tabs>
      <ImportReport importId={report} onClose={() => update({ report: null })} />
    </>
  );
}
