import { Stack, Text } from "@mantine/core";
import type { ImportKind } from "../../api/imports";
import { ImportList } from "./ImportList";
import { ImportStarter } from "./ImportStarter";

const TEXTS: Record<
  ImportKind,
  {
    intro: string;
    fileLabel: string;
    accept: string;
    remoteLabel: string;
    remoteHint: string;
    listTitle: string;
  }
> = {
  etilize: {
    intro:
      "The Etilize feed brings product content. Products matching a Xorosoft item are added or " +
      "updated in the catalog; the report lists what did not match and why.",
    fileLabel: "Etilize feed (CSV or zip)",
    accept: ".csv,.zip,text/csv,application/zip",
    remoteLabel: "Fetch from FTP",
    remoteHint: "Downloads CowanOfficeSupplies.zip from the Etilize FTP server.",
    listTitle: "Etilize imports",
  },
  xorosoft: {
    intro:
      "Xorosoft holds what Cowan's stocks: SKUs, prices and stock per location. Import it " +
      "before the Etilize feed, which is matched against it.",
    fileLabel: "Xorosoft export (CSV)",
    accept: ".csv,text/csv",
    remoteLabel: "Refresh from API",
    remoteHint: "Reads every item, price and stock level from the Xorosoft API.",
    listTitle: "Xorosoft imports",
  },
};

/** One source's tab: start an import, follow the latest, open a report. */
export function ImportsPanel({
  kind,
  onOpenReport,
}: {
  kind: ImportKind;
  onOpenReport: (importId: number) => void;
}) {
  const texts = TEXTS[kind];
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {texts.intro}
      </Text>
      <ImportStarter
        kind={kind}
        fileLabel={texts.fileLabel}
        accept={texts.accept}
        remoteLabel={texts.remoteLabel}
        remoteHint={texts.remoteHint}
      />
      <Text fw={600}>{texts.listTitle}</Text>
      <ImportList kind={kind} onOpenReport={onOpenReport} />
    </Stack>
  );
}
