"""Dependency aliases used by every route: a database session, the settings, and the key check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys
from homeward.api_keys import Caller
from homeward.roles import Action
from homeward.settings import Settings


def get_factory(request: Request) -> sessionmaker[Session]:
    """The session factory made at start-up."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request; commits on success, rolls back on error."""
    factory = get_factory(request)
    with factory() as session, session.begin():
        yield session


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
FactoryDep = Annotated[sessionmaker[Session], Depends(get_factory)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Both schemes appear in the OpenAPI document; neither raises by itself, so a missing key
# becomes the same problem+json 401 as an unknown one.
_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer <key>`")
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="the same API key in an `X-API-Key` header"
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
ApiKeyHeaderDep = Annotated[str | None, Security(_api_key_header)]


def _checker(action: Action) -> Callable[..., Caller]:
    def check(request: Request, bearer: BearerDep, header: ApiKeyHeaderDep) -> Caller:
        if get_settings(request).auth == "off":
            return api_keys.AUTH_OFF
        secret = bearer.credentials if bearer is not None else header
        with get_factory(request)() as session:
            caller = api_keys.authenticate(session, secret)
        api_keys.authorise(caller, action, f"{request.method} {request.url.path}")
        return caller

    check.__name__ = f"require_{action.name.lower()}"
    return check


CHECKS: dict[Action, Callable[..., Caller]] = {action: _checker(action) for action in Action}


def allowed(action: Action) -> Any:
    """A route dependency: 401 without a valid key, 403 if its role may not do `action`."""
    return Security(CHECKS[action])
