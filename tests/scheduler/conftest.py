"""Real Celery workers and beat as child processes, a private redis-server, the sandbox over HTTP."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cli.cluster import RedisServer, beat_command, kill, spawn, worker_command
from db.models import OrgKind, Platform, Role
from db.session import session_scope
from domain import channels, orgs
from sandbox.testing import SandboxServer
from tests.conftest import require_service


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(workdir=tmp_path)
    try:
        server.start()
    except RuntimeError as exc:
        require_service("redis-server", exc)
    yield server
    server.stop()


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


@dataclass
class Cluster:
    """Workers and a beat sharing one environment."""

    env: dict
    logdir: Path
    procs: dict = field(default_factory=dict)

    def start_worker(self, name: str, concurrency: int = 4):
        self.procs[name] = spawn(worker_command(concurrency=concurrency, name=name), env=self.env,
                                 log=self.logdir / f"{name}.log")
        return self.procs[name]

    def start_beat(self):
        self.procs["beat"] = spawn(beat_command(self.logdir / "beat-schedule"), env=self.env,
                                   log=self.logdir / "beat.log")

    def kill(self, name: str, sig=signal.SIGKILL):
        kill(self.procs.pop(name), sig)

    def stop(self):
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logdir.glob("*.log"))


@pytest.fixture
def cluster_env(pg_url, secret_key, sandbox, tmp_path):
    return {
        "LOA_DATABASE_URL": pg_url, "LOA_SECRET_KEYS": secret_key,
        "LOA_FACEBOOK_GRAPH_URL": sandbox.graph_url, "LOA_ZALO_OPENAPI_URL": sandbox.zalo_openapi_url,
        "LOA_ZALO_OAUTH_URL": sandbox.zalo_oauth_url, "LOA_MEDIA_DIR": str(tmp_path / "media"),
        "LOA_DISPATCH_INTERVAL_S": "0.5", "LOA_REQUEUE_AFTER_S": "3", "LOA_LEASE_S": "8",
        "LOA_RECOVER_INTERVAL_S": "2", "LOA_HTTP_READ_TIMEOUT_S": "5", "LOA_WORKER_CONCURRENCY": "4",
    }


@pytest.fixture
def make_cluster(cluster_env, tmp_path):
    clusters = []

    def make(broker_url: str) -> Cluster:
        cluster = Cluster(env={**cluster_env, "LOA_BROKER_URL": broker_url}, logdir=tmp_path)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.stop()


def build_sandbox_world(factory, cipher, sandbox, *, pages: int = 2) -> dict:
    """A province with an editor, an approver and Facebook Pages that exist on the sandbox."""
    created = [sandbox.add_page(f"Trang thử {i}") for i in range(pages)]
    with session_scope(factory) as s:
        province = orgs.create_org(s, name="LĐLĐ tỉnh Thử", kind=OrgKind.tinh)
        editor = orgs.create_user(s, email="bt@t.vn", full_name="Biên tập")
        approver = orgs.create_user(s, email="d@t.vn", full_name="Duyệt")
        orgs.grant_role(s, user=editor, org=province, role=Role.editor)
        orgs.grant_role(s, user=approver, org=province, role=Role.approver)
        channel_ids = [channels.connect_channel(
            s, org=province, platform=Platform.facebook_page, external_id=p["page_id"], name=p["name"],
            credentials={"access_token": p["page_token"]}, cipher=cipher).id for p in created]
        return {"org": province.id, "editor": editor.id, "approver": approver.id, "channels": channel_ids,
                "pages": [p["page_id"] for p in created]}


@pytest.fixture
def sandbox_world(factory, cipher, sandbox):
    return build_sandbox_world(factory, cipher, sandbox)


def wait_for(predicate, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
