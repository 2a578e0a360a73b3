"""Who may do what: anonymous sessions read, users with a password may also write writable points.

asyncua checks two things: the UserManager decides at ActivateSession (OPC 10000-4 5.6.3) whether the
identity is accepted and with which role; the permission ruleset then allows or refuses each service
request by type. Writes are further limited per variable by AccessLevel (Part 3 5.6.2).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

from asyncua import ua
from asyncua.crypto.permission_rules import USER_TYPES, PermissionRuleset, User, UserRole

from bms_bridge.opcua.ua_values import ObjectIds, standard_node_id

_logger = logging.getLogger(__name__)

# Requests that change something in the server; everything else in USER_TYPES only reads or subscribes.
_CHANGING = frozenset(
    {
        standard_node_id(ObjectIds.WriteRequest_Encoding_DefaultBinary),
        standard_node_id(ObjectIds.CallRequest_Encoding_DefaultBinary),
        standard_node_id(ObjectIds.HistoryUpdateRequest_Encoding_DefaultBinary),
    }
)


class ReadOnlyAnonymousRuleset(PermissionRuleset):
    """Anonymous: read, browse, subscribe, history read. Users: also write. Nobody changes the address space."""

    def __init__(self) -> None:
        user = frozenset(standard_node_id(type_id) for type_id in USER_TYPES)
        self._allowed: dict[UserRole, frozenset[ua.NodeId]] = {
            UserRole.Anonymous: user - _CHANGING,
            UserRole.User: user,
            UserRole.Admin: user,  # never handed out: AddNodes/DeleteNodes stay refused
        }

    def check_validity(self, user: User, action_type_id: ua.NodeId, body: Any) -> bool:
        return action_type_id in self._allowed.get(user.role, frozenset())


class PasswordUserManager:
    """Accepts configured username/password pairs and, when allowed, anonymous sessions."""

    def __init__(self, users: Mapping[str, str], allow_anonymous: bool) -> None:
        self._users = dict(users)
        self._allow_anonymous = allow_anonymous

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None:
            # Only anonymous and username tokens are offered, so no username means anonymous (the
            # certificate passed here is then the client's application certificate, not a user's).
            return User(role=UserRole.Anonymous) if self._allow_anonymous else None
        expected = self._users.get(username)
        # Constant-time comparison; an unknown user is compared too, so both cost the same.
        matches = hmac.compare_digest((password or "").encode(), (expected or "").encode())
        if expected is None or not matches:
            _logger.warning("OPC UA login refused for user %r", username)
            return None
        return User(role=UserRole.User, name=username)
