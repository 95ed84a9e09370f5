import { Alert, Text } from "@mantine/core";
import type { ConnectionTest } from "../../api/settings";

function points(n: number): string {
  return Math.round(n).toLocaleString();
}

/** A connection test's answer in words: which shop, its plan, and Shopify's rate limit. */
export function ConnectionResult({ result }: { result: ConnectionTest }) {
  if (!result.ok) {
    return (
      <Alert color="red" title="Connection failed">
        {result.error ?? "The shop did not answer."}
      </Alert>
    );
  }
  const shop = result.shop_name ?? "the shop";
  const domain = result.myshopify_domain ? ` (${result.myshopify_domain})` : "";
  const plan = result.plan
    ? `, on the ${result.plan} plan${result.shopify_plus ? " (Shopify Plus)" : ""}`
    : "";
  const throttle = result.throttle;
  const webhooks = result.webhooks;
  return (
    <Alert color="green" title="Connected">
      <Text size="sm">
        Connected to {shop}
        {domain}
        {plan}.
      </Text>
      {throttle && (
        <Text size="sm">
          Rate limit: {points(throttle.currently_available)} of {points(throttle.maximum_available)}{" "}
          points available, refilling {points(throttle.restore_rate)} per second.
        </Text>
      )}
      <Text size="sm" c="dimmed">
        Answered in {Math.round(result.elapsed_ms).toLocaleString()} ms.
      </Text>
      {webhooks &&
        (webhooks.error ? (
          <Text size="sm" c="orange">
            Webhooks not set up: {webhooks.error}
          </Text>
        ) : (
          <Text size="sm">
            Webhooks: subscribed to {webhooks.subscribed.length.toLocaleString()} topics.
          </Text>
        ))}
    </Alert>
  );
}
