import { Alert, Button, Group, Modal, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import type { BatchRequest } from "../api/batch";
import { errorMessage } from "../api/client";
import { usePermissions } from "../auth/permissions";
import { BatchProgress } from "../components/batch/BatchProgress";
import { OperationCard } from "../components/batch/OperationCard";
import { RecentBatches } from "../components/batch/RecentBatches";
import { SelectionCard } from "../components/batch/SelectionCard";
import { count } from "../format";
import { useStartBatch } from "../hooks/useBatch";
import {
  EMPTY_FORM,
  operationRequest,
  useBatchSelection,
  type OperationForm,
} from "../hooks/useBatchForm";

const VERBS = { update: "Update", delete: "Delete", export: "Export" } as const;

/** Bulk work on a selection: choose the products and the operation, start, watch it live,
 * retry what failed, download an export. The batch shown is in the URL (?batch=12). */
export function BatchProcessor() {
  const { canEdit } = usePermissions();
  const [params, setParams] = useSearchParams();
  const shown = Number(params.get("batch")) || null;
  const selection = useBatchSelection();
  const [form, setForm] = useState<OperationForm>(EMPTY_FORM);
  const [confirming, setConfirming] = useState(false);
  const start = useStartBatch();

  const show = (id: number) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      next.set("batch", String(id));
      return next;
    });
  const operation = operationRequest(form);
  const problem = selection.problem ?? operation.problem;
  const ready = problem === null && selection.selected !== null && selection.selected > 0;
  const howMany = selection.selected === null ? "" : count(selection.selected, "product");

  const run = () => {
    const request = { ...operation.part, ...selection.part } as BatchRequest;
    start.mutate(request, {
      onSuccess: (started) => {
        setConfirming(false);
        show(started.batch_id);
      },
      onError: () => setConfirming(false),
    });
  };

  return (
    <Stack>
      <Title order={2}>Batch edits</Title>
      {canEdit ? (
        <>
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <SelectionCard selection={selection} />
            <OperationCard form={form} onChange={(change) => setForm({ ...form, ...change })} />
          </SimpleGrid>
          <Group justify="space-between">
            <Text size="sm" c={problem ? "dimmed" : "bright"}>
              {problem ?? `Ready: ${VERBS[form.operation].toLowerCase()} ${howMany}.`}
            </Text>
            <Button
              disabled={!ready}
              loading={start.isPending}
              color={form.operation === "delete" ? "red" : "blue"}
              onClick={() => (form.operation === "delete" ? setConfirming(true) : run())}
            >
              {VERBS[form.operation]} {howMany}
            </Button>
          </Group>
          {start.error && (
            <Alert color="red" title="The batch did not start">
              {errorMessage(start.error)}
            </Alert>
          )}
        </>
      ) : (
        <Alert color="gray" title="Watching only">
          Your role can follow batches and download exports; starting one takes the editor role.
        </Alert>
      )}
      {shown !== null && <BatchProgress batchId={shown} />}
      <RecentBatches current={shown} onShow={show} />
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={`Delete ${howMany}?`}>
        <Stack>
          <Text size="sm">
            {howMany} will leave the catalog and every list. Their history is kept.
            {form.push ? " The deletions are then pushed to every active Shopify store." : ""}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Keep them
            </Button>
            <Button color="red" onClick={run} loading={start.isPending}>
              Delete {howMany}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
