import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  createApiToken,
  createUser,
  listApiTokens,
  listUsers,
  revokeApiToken,
  updateUser,
  type UserCreate,
  type UserUpdate,
} from "../api/settings";
import { queryKeys } from "./queryKeys";

const userKeys = {
  list: [...queryKeys.users, "list"] as const,
  tokens: [...queryKeys.users, "me", "tokens"] as const,
};

/** Every user (admins only: the API refuses anyone else, so others never ask). */
export function useUserList(enabled: boolean) {
  return useQuery({
    queryKey: userKeys.list,
    queryFn: ({ signal }) => listUsers(signal),
    enabled,
  });
}

function useUsersChanged() {
  const client = useQueryClient();
  return () => void client.invalidateQueries({ queryKey: queryKeys.users });
}

export function useCreateUser() {
  const changed = useUsersChanged();
  return useMutation({ mutationFn: (body: UserCreate) => createUser(body), onSuccess: changed });
}

export function useUpdateUser() {
  const changed = useUsersChanged();
  return useMutation({
    mutationFn: ({ userId, ...body }: UserUpdate & { userId: number }) => updateUser(userId, body),
    onSuccess: changed,
  });
}

/** The signed-in user's own API tokens. */
export function useApiTokens() {
  return useQuery({ queryKey: userKeys.tokens, queryFn: ({ signal }) => listApiTokens(signal) });
}

export function useCreateApiToken() {
  const changed = useUsersChanged();
  return useMutation({
    mutationFn: ({ name, days }: { name: string; days: number | null }) =>
      createApiToken(name, days),
    onSuccess: changed,
  });
}

export function useRevokeApiToken() {
  const changed = useUsersChanged();
  return useMutation({
    mutationFn: (tokenId: number) => revokeApiToken(tokenId),
    onSuccess: changed,
  });
}
