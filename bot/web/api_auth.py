"""Who is calling the schools' API: a per-school bearer token.

Tokens are stored as SHA-256 hashes (bot/storage/school_tokens.py). A missing, unknown
or revoked token gets 401 with `WWW-Authenticate: Bearer`; nothing else is said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.runtime import Runtime
from bot.storage.database import Database
from bot.storage.school_tokens import school_for_token

# auto_error=False: we answer 401 ourselves (FastAPI's default is 403); the scheme still
# shows in the OpenAPI document.
bearer = HTTPBearer(auto_error=False, scheme_name="SchoolToken",
                    description="A school's API token (`wegwijs school token`).")


@dataclass(frozen=True)
class SchoolCaller:
    """The school whose token made this request."""

    school_id: int


def _unauthorized() -> HTTPException:
    return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED,
                         detail="missing, unknown or revoked token",
                         headers={"WWW-Authenticate": "Bearer"})


def _lookup(db: Database, token: str) -> int | None:
    with db.session() as session:
        return school_for_token(session, token)


async def current_school(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> SchoolCaller:
    """The calling school, from `Authorization: Bearer <token>`; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer" \
            or not credentials.credentials:
        raise _unauthorized()
    runtime: Runtime = request.app.state.runtime
    school_id = await runtime.db.run(_lookup, runtime.db, credentials.credentials)
    if school_id is None:
        raise _unauthorized()
    return SchoolCaller(school_id)


CurrentSchool = Annotated[SchoolCaller, Depends(current_school)]
