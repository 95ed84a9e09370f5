// Catalog field names in the words the catalog team uses: one list for every page that names a
// field (product detail, history, staged changes), so a field reads the same everywhere.

const FIELD_LABELS: Record<string, string> = {
  title: "Title",
  body_html: "Description",
  vendor: "Vendor",
  product_type: "Product type",
  tags: "Tags",
  status: "Status",
  published: "Published",
  seo_title: "SEO title",
  seo_description: "SEO description",
  barcode: "Barcode",
  price: "Price",
  compare_at_price: "Compare-at price",
  inventory_policy: "When out of stock",
  inventory: "Stock",
  sku: "SKU",
  taxable: "Taxable",
  requires_shipping: "Requires shipping",
  weight_grams: "Weight (g)",
  images: "Images",
  collections: "Collections",
  specifications: "Specifications",
  deleted: "Deleted",
};

/** The field's label; an unknown field's own name, spaced. */
export function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field.replace(/_/g, " ");
}
