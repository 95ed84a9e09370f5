"""User administration (admin only)."""

from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from cowans.api.deps import Admin, SessionDep, audit
from cowans.api.errors import error_responses
from cowans.api.schemas import Email, Id, UserOut
from cowans.auth import service
from cowans.db.models import Role

router = APIRouter(prefix="/api/users", tags=["users"])

Password = Annotated[str, Field(min_length=1, max_length=256)]


class UserCreate(BaseModel):
    email: Email
    password: Password
    role: Role = Role.VIEWER
    name: Annotated[str, Field(max_length=200)] = ""


class UserUpdate(BaseModel):
    name: Annotated[str | None, Field(max_length=200)] = None
    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None


@router.get("", response_model=list[UserOut])
def list_users(_: Admin, session: SessionDep) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in service.list_users(session)]


@router.post(
    "",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
def create_user(body: UserCreate, request: Request, _: Admin, session: SessionDep) -> UserOut:
    user = service.create_user(session, body.email, body.password, body.role, body.name)
    audit(request, user_id=user.id, email=user.email, role=user.role.value)
    return UserOut.model_validate(user)


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: Id, _: Admin, session: SessionDep) -> UserOut:
    return UserOut.model_validate(service.get_user(session, user_id))


@router.patch("/{user_id}", response_model=UserOut, responses=error_responses(409))
def update_user(
    user_id: Id, body: UserUpdate, request: Request, _: Admin, session: SessionDep
) -> UserOut:
    changes = body.model_dump(exclude_unset=True)
    user = service.update_user(session, user_id, **changes)
    audit(request, user_id=user.id, fields=sorted(changes))
    return UserOut.model_validate(user)
