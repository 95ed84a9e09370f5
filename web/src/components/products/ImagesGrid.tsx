import { Anchor, Card, Image, SimpleGrid, Stack, Text } from "@mantine/core";
import type { ProductImage } from "../../api/products";

// Shown where an image cannot be loaded (a moved file, no network): a grey square, no request.
const MISSING =
  "data:image/svg+xml;utf8," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120"><rect width="160" height="120" fill="#e9ecef"/><text x="80" y="64" font-family="sans-serif" font-size="12" text-anchor="middle" fill="#868e96">image unavailable</text></svg>',
  );

export function ImagesGrid({ images, title }: { images: ProductImage[]; title: string }) {
  if (images.length === 0) return <Text c="dimmed">This product has no images.</Text>;
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }}>
      {[...images]
        .sort((a, b) => a.position - b.position)
        .map((image) => (
          <Card key={`${image.position}-${image.src}`} withBorder padding="xs">
            <Stack gap={4}>
              <Image
                src={image.src}
                alt={image.alt || `${title}, image ${image.position}`}
                h={120}
                fit="contain"
                fallbackSrc={MISSING}
                loading="lazy"
              />
              <Text size="xs" c={image.alt ? "bright" : "dimmed"} lineClamp={2}>
                {image.position}. {image.alt || "No alt text"}
              </Text>
              <Anchor href={image.src} target="_blank" rel="noreferrer" size="xs">
                Open image
              </Anchor>
            </Stack>
          </Card>
        ))}
    </SimpleGrid>
  );
}
