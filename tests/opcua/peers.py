"""node-opcua, an OPC UA SDK from the npm registry, installed into .peers/ by `make peers`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.services import services_required

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".peers" / "nodeopcua" / "node_modules"


def require_node_opcua() -> tuple[str, Path]:
    """The node executable and the node_modules holding node-opcua-client, or skip/fail with how to get them."""
    node = shutil.which("node")
    if node is not None and (NODE_MODULES / "node-opcua-client").is_dir():
        return node, NODE_MODULES
    message = f"node-opcua client not installed ({NODE_MODULES}); install it with: make peers (needs node and npm)"
    if services_required():
        pytest.fail(message)
    pytest.skip(message)
