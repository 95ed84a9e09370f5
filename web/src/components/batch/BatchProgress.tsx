import {
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  Loader,
  Progress,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { Link } from "react-router-dom";
import { downloadResult, isRunning, type BatchStatus } from "../../api/batch";
import { ApiError, errorMessage } from "../../api/client";
import { usePermissions } from "../../auth/permissions";
import { ago, count } from "../../format";
import { useBatchStatus, useCancelBatch, useRetryBatch } from "../../hooks/useBatch";
import { BatchStateBadge, operationLabel } from "./labels";

function Errors({ status }: { status: BatchStatus }) {
  if (status.errors.length === 0) return null;
  return (
    <Stack gap={4}>
      <Text fw={600} size="sm">
        Products that failed
        {status.failed > status.errors.length
          ? ` (the first ${status.errors.length} of ${status.failed.toLocaleString()})`
          : ""}
      </Text>
      <Table.ScrollContainer minWidth={480}>
        <Table striped verticalSpacing={4} aria-label="Products that failed">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={120}>Product</Table.Th>
              <Table.Th>Why</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {status.errors.map((error, index) => (
              <Table.Tr key={`${error.product_id}-${index}`}>
                <Table.Td>
                  {error.product_id === null ? (
                    "—"
                  ) : (
                    <Anchor component={Link} to={`/products/${error.product_id}`} size="sm">
                      #{error.product_id}
                    </Anchor>
                  )}
                </Table.Td>
                <Table.Td>{error.message ?? "Failed without a message."}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

/** One batch, live: counters while it runs (polled), then its outcome, failures, and actions. */
export function BatchProgress({ batchId }: { batchId: number }) {
  const status = useBatchStatus(batchId);
  const { canEdit } = usePermissions();
  const cancel = useCancelBatch();
  const retry = useRetryBatch();
  const [downloading, setDownloading] = useState(false);

  if (status.isPending)
    return (
      <Card withBorder padding="md">
        <Group gap="xs">
          <Loader size="xs" />
          <Text size="sm">Loading batch #{batchId}…</Text>
        </Group>
      </Card>
    );
  if (status.error)
    return (
      <Alert color="red" title={`Batch #${batchId}`}>
        {status.error instanceof ApiError && status.error.status === 404
          ? `There is no batch #${batchId}.`
          : errorMessage(status.error)}
      </Alert>
    );
  const batch = status.data;
  const running = isRunning(batch.state);
  const percent = batch.total ? Math.min(100, (batch.processed / batch.total) * 100) : 0;
  const download = async () => {
    if (!batch.result_url) return;
    setDownloading(true);
    try {
      await downloadResult(
        batch.result_url,
        `products-batch-${batch.batch_id}.${batch.format ?? "csv"}`,
      );
    } catch (error) {
      notifications.show({ color: "red", title: "Download failed", message: errorMessage(error) });
    } finally {
      setDownloading(false);
    }
  };

  return (
    <Card withBorder padding="md" aria-label={`Batch ${batch.batch_id}`}>
      <Stack gap="sm">
        <Group justify="space-between" gap="xs">
          <Group gap="xs">
            <Title order={4}>
              Batch #{batch.batch_id}: {operationLabel(batch.operation, batch.format)}
            </Title>
            <BatchStateBadge state={batch.state} failed={batch.failed} />
            {running && batch.phase && (
              <Text size="sm" c="dimmed">
                {batch.phase}
              </Text>
            )}
          </Group>
          <Group gap="xs">
            {batch.result_url && (
              <Button size="xs" onClick={() => void download()} loading={downloading}>
                Download {(batch.format ?? "csv").toUpperCase()}
              </Button>
            )}
            {canEdit && running && (
              <Button
                size="xs"
                color="red"
                variant="light"
                onClick={() => cancel.mutate(batch.batch_id)}
                loading={cancel.isPending}
                disabled={batch.cancel_requested}
              >
                {batch.cancel_requested ? "Stopping…" : "Cancel"}
              </Button>
            )}
            {canEdit && !running && batch.failed > 0 && (
              <Button
                size="xs"
                variant="light"
                onClick={() => retry.mutate(batch.batch_id)}
                loading={retry.isPending}
              >
                Retry {count(batch.failed, "failed product")}
              </Button>
            )}
          </Group>
        </Group>
        <Progress
          value={percent}
          animated={running}
          color={batch.failed ? "orange" : "blue"}
          aria-label={`Batch ${batch.batch_id} progress`}
        />
        <Text size="sm" aria-live="polite">
          {batch.processed.toLocaleString()} of {count(batch.total, "product")} done ·{" "}
          {batch.succeeded.toLocaleString()} succeeded · {batch.failed.toLocaleString()} failed
          {batch.finished_at && !running ? ` · finished ${ago(batch.finished_at)}` : ""}
        </Text>
        {batch.error && (
          <Alert color="red" title="The batch stopped">
            {batch.error}
          </Alert>
        )}
        {batch.push_jobs.length > 0 && (
          <Text size="sm">
            Pushing to Shopify:{" "}
            {batch.push_jobs.map((job, index) => (
              <span key={job}>
                {index > 0 && ", "}
                <Anchor component={Link} to="/push" size="sm">
                  push #{job}
                </Anchor>
              </span>
            ))}
          </Text>
        )}
        <Errors status={batch} />
      </Stack>
    </Card>
  );
}
