import { Alert, Badge, Loader, Progress, Table, Text } from "@mantine/core";
import { errorMessage } from "../../api/client";
import type { JobOutcome } from "../../api/home";
import type { JobState } from "../../api/types";
import { ago, count } from "../../format";
import { useRecentJobs } from "../../hooks/useHomeSync";
import { isActive } from "../../hooks/useJobs";

const STATE_COLORS: Record<JobState, string> = {
  queued: "gray",
  running: "blue",
  completed: "green",
  completed_with_errors: "yellow",
  failed: "red",
  cancelled: "gray",
};

export function JobStateBadge({ state }: { state: JobState }) {
  return (
    <Badge color={STATE_COLORS[state]} variant="light">
      {state.replace(/_/g, " ")}
    </Badge>
  );
}

function number(result: Record<string, unknown>, key: string): number {
  const value = result[key];
  return typeof value === "number" ? value : 0;
}

/** What a finished pull or push did, in one sentence. */
export function jobOutcome(job: JobOutcome): string {
  if (job.error) return job.error;
  if (isActive(job)) return job.phase ? `${job.phase}…` : "";
  const r = job.result;
  if (job.kind === "sync.pull") {
    const parts = [
      `compared ${count(number(r, "compared"), "product")}`,
      `${number(r, "pulled").toLocaleString()} changed in Shopify`,
    ];
    if (number(r, "conflicts")) parts.push(count(number(r, "conflicts"), "conflict"));
    if (number(r, "creates")) parts.push(`${number(r, "creates").toLocaleString()} new in Shopify`);
    if (number(r, "deletes"))
      parts.push(`${number(r, "deletes").toLocaleString()} deleted in Shopify`);
    const scope = typeof r.scope === "string" ? `${r.scope}: ` : "";
    return scope + parts.join(", ");
  }
  if (job.kind === "sync.push") {
    const parts = [
      `${number(r, "applied").toLocaleString()} of ${count(number(r, "total"), "change")} applied`,
    ];
    if (number(r, "failed")) parts.push(`${number(r, "failed").toLocaleString()} failed`);
    if (number(r, "conflicts")) parts.push(count(number(r, "conflicts"), "conflict"));
    return parts.join(", ");
  }
  return "";
}

function JobProgress({ job }: { job: JobOutcome }) {
  if (!isActive(job)) {
    return (
      <Text size="sm">
        {job.processed.toLocaleString()} / {job.total.toLocaleString()}
      </Text>
    );
  }
  const known = job.total > 0;
  return (
    <Progress
      aria-label={`Job ${job.id} progress`}
      value={known ? Math.min(100, (job.processed / job.total) * 100) : 100}
      striped={!known}
      animated
    />
  );
}

/** The latest jobs of one kind, updated live, with what each did. */
export function RecentJobs({
  kind,
  title,
  empty,
  storeNames,
}: {
  kind: string;
  title: string;
  empty: string;
  storeNames: Map<number, string>;
}) {
  const jobs = useRecentJobs(kind);
  if (jobs.isPending) return <Loader size="sm" aria-label={`Loading ${title.toLowerCase()}`} />;
  if (jobs.error) return <Alert color="red">{errorMessage(jobs.error)}</Alert>;
  if (jobs.data.items.length === 0)
    return (
      <Text size="sm" c="dimmed">
        {empty}
      </Text>
    );
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table aria-label={title} verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Job</Table.Th>
            <Table.Th>Store</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th w={140}>Progress</Table.Th>
            <Table.Th>Started</Table.Th>
            <Table.Th>Outcome</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.data.items.map((job) => (
            <Table.Tr key={job.id}>
              <Table.Td>#{job.id}</Table.Td>
              <Table.Td>
                {job.store_id === null ? "—" : (storeNames.get(job.store_id) ?? job.store_id)}
              </Table.Td>
              <Table.Td>
                <JobStateBadge state={job.state} />
              </Table.Td>
              <Table.Td>
                <JobProgress job={job} />
              </Table.Td>
              <Table.Td title={job.started_at ?? job.created_at ?? undefined}>
                {ago(job.started_at ?? job.created_at)}
              </Table.Td>
              <Table.Td>
                <Text size="sm">{jobOutcome(job)}</Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
