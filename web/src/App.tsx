import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { ApiError } from "./api/client";
import { AuthProvider } from "./auth/AuthProvider";
import { RequireAuth } from "./auth/RequireAuth";
import { Shell } from "./components/Shell";
import { BatchProcessor } from "./pages/BatchProcessor";
import { EnhancedSyncDashboard } from "./pages/EnhancedSyncDashboard";
import { LoginPage } from "./pages/LoginPage";
import { ParallelSyncControl } from "./pages/ParallelSyncControl";
import { ProductDetailPage } from "./pages/ProductDetailPage";
import { ProductsPage } from "./pages/ProductsPage";
import { SettingsPage } from "./pages/SettingsPage";
import { StagedChangesReview } from "./pages/StagedChangesReview";
import { SwarmExecutionDashboard } from "./pages/SwarmExecutionDashboard";
import { SyncHistoryPage } from "./pages/SyncHistoryPage";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000, // live events keep the data fresh; refetch on focus covers a sleep
      retry: (failures, error) =>
        failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

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
