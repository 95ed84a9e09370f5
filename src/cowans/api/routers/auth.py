"""Login, the current user, and personal API tokens."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from cowans.api.deps import SessionDep, SettingsDep, Viewer, audit
from cowans.api.errors import error_responses
from cowans.api.schemas import Email, Id, UserOut
from cowans.auth import service
from cowans.errors import Unauthenticated

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]


class LoginUser(BaseModel):
    id: int
    email: str
    role: str


class LoginOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: LoginUser


class TokenIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    expires_in_days: Annotated[int | None, Field(ge=1, le=3650)] = None


class TokenCreated(BaseModel):
    token: str
    id: int
    name: str
    expires_at: datetime | None


class TokenOut(BaseModel):
    id: int
    name: str
    token_prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=LoginOut, responses=error_responses(401, 429, 503))
def login(body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep) -> LoginOut:
    """No authentication. Failed logins are limited per account and per address (429)."""
    audit(request, email=body.email)
    try:
        access, user = service.login(
            session, settings, body.email, body.password, _client_address(request)
        )
    except Unauthenticated:
        session.commit()  # the failed attempt must count although the request fails
        raise
    audit(request, user_id=user.id)
    return LoginOut(
        access_token=access.token,
        expires_in=access.expires_in,
        user=LoginUser(id=user.id, email=user.email, role=user.role.value),
    )


@router.post("/refresh", response_model=LoginOut, responses=error_responses(422))
def refresh(request: Request, principal: Viewer, settings: SettingsDep) -> LoginOut:
    """A fresh access token for a still-valid login token, so the dashboard keeps a person who
    is working signed in; refused (401 `session_expired`) SESSION_MAX_HOURS after the login, and
    (422) for API tokens. The old token stays valid until it expires."""
    access = service.refresh_access_token(principal, settings)
    user = principal.user
    audit(request, user_id=user.id)
    return LoginOut(
        access_token=access.token,
        expires_in=access.expires_in,
        user=LoginUser(id=user.id, email=user.email, role=user.role.value),
    )


@router.get("/me", response_model=UserOut)
def me(principal: Viewer) -> UserOut:
    return UserOut.model_validate(principal.user)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(
    body: TokenIn, request: Request, principal: Viewer, session: SessionDep, settings: SettingsDep
) -> TokenCreated:
    """A long-lived token for scripts, for the caller itself. The token is shown only here."""
    days = body.expires_in_days or settings.api_token_default_expire_days
    token, record = service.create_api_token(session, principal.user, body.name, days)
    audit(request, api_token_id=record.id, name=record.name)
    return TokenCreated(token=token, id=record.id, name=record.name, expires_at=record.expires_at)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(principal: Viewer, session: SessionDep) -> list[TokenOut]:
    tokens = service.list_api_tokens(session, principal.user)
    return [TokenOut.model_validate(token, from_attributes=True) for token in tokens]


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(
    token_id: Id, request: Request, principal: Viewer, session: SessionDep
) -> TokenOut:
    """Revocation takes effect on the very next request that uses the token."""
    token = service.revoke_api_token(session, principal, token_id)
    audit(request, api_token_id=token.id)
    return TokenOut.model_validate(token, from_attributes=True)
