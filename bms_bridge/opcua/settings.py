"""Settings of the OPC UA server, validated once on creation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlparse

# Security policy names as in asyncua's SecurityPolicyType (OPC 10000-7 security policy profiles).
SECURITY_POLICIES = frozenset(
    {
        "None",
        "Basic256Sha256_Sign",
        "Basic256Sha256_SignAndEncrypt",
        "Aes128Sha256RsaOaep_Sign",
        "Aes128Sha256RsaOaep_SignAndEncrypt",
        "Aes256Sha256RsaPss_Sign",
        "Aes256Sha256RsaPss_SignAndEncrypt",
    }
)


@dataclass(frozen=True)
class OpcUaSettings:
    endpoint: str = "opc.tcp://127.0.0.1:4840"
    server_name: str = "bms-bridge"
    namespace_uri: str = "urn:bms-bridge:points"
    application_uri: str = "urn:bms-bridge:opcua-server"  # must match the certificate's SAN URI
    allow_anonymous: bool = True  # anonymous sessions may read, browse, subscribe, never write
    # username -> password (already resolved); kept out of repr so a logged settings object leaks nothing
    users: Mapping[str, str] = field(default_factory=dict, repr=False)
    security_policies: tuple[str, ...] = ("None",)
    certificate: Path | None = None  # DER or PEM; needed by every policy except "None"
    private_key: Path | None = None

    def __post_init__(self) -> None:
        url = urlparse(self.endpoint)
        if url.scheme != "opc.tcp" or not url.hostname or url.port is None:
            raise ValueError(f"OPC UA endpoint must look like opc.tcp://HOST:PORT, got {self.endpoint!r}")
        # Freeze the mapping and the list so a frozen dataclass is really immutable.
        object.__setattr__(self, "users", MappingProxyType(dict(self.users)))
        object.__setattr__(self, "security_policies", tuple(self.security_policies))
        if not self.security_policies:
            raise ValueError("at least one OPC UA security policy is required")
        unknown = [p for p in self.security_policies if p not in SECURITY_POLICIES]
        if unknown:
            raise ValueError(f"unknown OPC UA security policies {unknown}; known: {sorted(SECURITY_POLICIES)}")
        if len(set(self.security_policies)) != len(self.security_policies):
            raise ValueError(f"duplicate OPC UA security policies in {list(self.security_policies)}")
        secured = [p for p in self.security_policies if p != "None"]
        if secured and (self.certificate is None or self.private_key is None):
            raise ValueError(f"security policies {secured} need both a certificate and a private key")
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("give both the OPC UA certificate and its private key, or neither")
        if not self.allow_anonymous and not self.users:
            raise ValueError("anonymous access is disabled but no users are configured: nobody could log in")
        for name, password in self.users.items():
            if not name or not password:
                raise ValueError(f"OPC UA user {name!r} needs a non-empty name and password")

    @property
    def host(self) -> str:
        return urlparse(self.endpoint).hostname or ""

    @property
    def port(self) -> int:
        return urlparse(self.endpoint).port or 0
