import { Alert, Anchor, Group, Loader, Stack, Tabs, Text } from "@mantine/core";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { ApiError, errorMessage } from "../api/client";
import { FieldsPanel } from "../components/products/FieldsPanel";
import { HistoryPanel } from "../components/products/HistoryPanel";
import { ImagesGrid } from "../components/products/ImagesGrid";
import { ProductHeader } from "../components/products/ProductHeader";
import { SpecificationsTable } from "../components/products/SpecificationsTable";
import { StoreSyncTable } from "../components/products/StoreSyncTable";
import { VariantsTable } from "../components/products/VariantsTable";
import { useProduct } from "../hooks/useProduct";

const TABS = ["fields", "variants", "images", "specifications", "history", "sync"] as const;
type Tab = (typeof TABS)[number];

function NoSuchProduct({ id }: { id: string | undefined }) {
  return (
    <Stack>
      <Alert color="yellow" title="No such product">
        There is no product {id ? `with id ${id}` : "here"}: it may have been deleted, or the link
        is wrong.
      </Alert>
      <Anchor component={Link} to="/products">
        ← Back to the products
      </Anchor>
    </Stack>
  );
}

/** One product: header, then fields with provenance and locks, variants, images,
 * specifications, history with diffs, and its sync status per store. The tab is in the URL. */
export function ProductDetailPage() {
  const { productId } = useParams();
  const id = Number(productId);
  const valid = Number.isInteger(id) && id > 0;
  const [params, setParams] = useSearchParams();
  const asked = params.get("tab");
  const tab: Tab = TABS.includes(asked as Tab) ? (asked as Tab) : "fields";
  const product = useProduct(valid ? id : 0);

  if (!valid) return <NoSuchProduct id={productId} />;
  if (product.isPending)
    return (
      <Group>
        <Loader size="sm" />
        <Text size="sm">Loading the product…</Text>
      </Group>
    );
  if (product.error) {
    if (product.error instanceof ApiError && product.error.status === 404)
      return <NoSuchProduct id={productId} />;
    return (
      <Alert color="red" title="The product could not be loaded">
        {errorMessage(product.error)}
      </Alert>
    );
  }
  const data = product.data;
  return (
    <Stack>
      <ProductHeader product={data} />
      <Tabs
        value={tab}
        onChange={(value) =>
          setParams(
            (current) => {
              const next = new URLSearchParams(current);
              next.set("tab", value ?? "fields");
              return next;
            },
            { replace: true },
          )
        }
        keepMounted={false}
      >
        <Tabs.List>
          <Tabs.Tab value="fields">Fields &amp; locks</Tabs.Tab>
          <Tabs.Tab value="variants">Variants ({data.variants.length})</Tabs.Tab>
          <Tabs.Tab value="images">Images ({data.images.length})</Tabs.Tab>
          <Tabs.Tab value="specifications">Specifications ({data.metafields.length})</Tabs.Tab>
          <Tabs.Tab value="history">History (v{data.version})</Tabs.Tab>
          <Tabs.Tab value="sync">Sync by store</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="fields" pt="md">
          <FieldsPanel product={data} />
        </Tabs.Panel>
        <Tabs.Panel value="variants" pt="md">
          <VariantsTable variants={data.variants} />
        </Tabs.Panel>
        <Tabs.Panel value="images" pt="md">
          <ImagesGrid images={data.images} title={data.title} />
        </Tabs.Panel>
        <Tabs.Panel value="specifications" pt="md">
          <SpecificationsTable specifications={data.metafields} />
        </Tabs.Panel>
        <Tabs.Panel value="history" pt="md">
          <HistoryPanel productId={data.id} active={tab === "history"} />
        </Tabs.Panel>
        <Tabs.Panel value="sync" pt="md">
          <StoreSyncTable productId={data.id} sync={data.sync} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
