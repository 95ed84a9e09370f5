import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { ApiError } from "./api/client";
import { AuthProvider } from "./auth/AuthProvider";
import { RequireAuth } from "./auth/RequireAuth";
import { Shell } from "./components/Shell";
import { prefetchReview } from "./hooks/useStagedChanges";
import { EnhancedSyncDashboard } from "./pages/EnhancedSyncDashboard";
import { LoginPage } from "./pages/LoginPage";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000, // live events keep the data fresh; refetch on focus covers a sleep
      retry: (failures, error) =>
        failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

// The home page and login come with the first load; every other page (and the chart library
// only the worker view needs) is fetched when first opened, so the first paint stays quick.
// The review page's first data is asked for together with its code, not after it.
const StagedChangesReview = lazyPage(() => {
  prefetchReview(queryClient, new URLSearchParams(window.location.search));
  return import("./pages/StagedChangesReview");
}, "StagedChangesReview");
const ParallelSyncControl = lazyPage(
  () => import("./pages/ParallelSyncControl"),
  "ParallelSyncControl",
);
const SwarmExecutionDashboard = lazyPage(
  () => import("./pages/SwarmExecutionDashboard"),
  "SwarmExecutionDashboard",
);
const BatchProcessor = lazyPage(() => import("./pages/BatchProcessor"), "BatchProcessor");
const ProductsPage = lazyPage(() => import("./pages/ProductsPage"), "ProductsPage");
const ProductDetailPage = lazyPage(() => import("./pages/ProductDetailPage"), "ProductDetailPage");
const SyncHistoryPage = lazyPage(() => import("./pages/SyncHistoryPage"), "SyncHistoryPage");
const SettingsPage = lazyPage(() => import("./pages/SettingsPage"), "SettingsPage");

function lazyPage<Name extends string>(
  load: () => Promise<Record<Name, ComponentType>>,
  name: Name,
): LazyExoticComponent<ComponentType> {
  return lazy(async () => ({ default: (await load())[name] }));
}

export function App() {
  return (
    <MantineProvider defaultColorScheme="auto">
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <AuthProvider>
            <Routes>
              <Route path="/login" element={<LoginPage />} />
              <Route
                element={
                  <RequireAuth>
                    <Shell />
                  </RequireAuth>
                }
              >
                <Route index element={<EnhancedSyncDashboard />} />
                <Route path="review" element={<StagedChangesReview />} />
                <Route path="push" element={<ParallelSyncControl />} />
                <Route path="workers" element={<SwarmExecutionDashboard />} />
                <Route path="batch" element={<BatchProcessor />} />
                <Route path="products" element={<ProductsPage />} />
                <Route path="products/:productId" element={<ProductDetailPage />} />
                <Route path="history" element={<SyncHistoryPage />} />
                <Route path="settings" element={<SettingsPage />} />
              </Route>
              <Route path="*" element={<Navigate to="/" replace />} />
            </Routes>
          </AuthProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  );
}
