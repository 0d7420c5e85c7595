"""Debian's Chromium for browser tests: installed with apt when missing, never downloaded by Playwright.

`ensure_chromium()` returns the binary's path. With CI=true a machine where it cannot be installed fails the
test; elsewhere the test is skipped with the reason. Screenshots go to `artifacts_dir()` (test-artifacts/ at
the repository root unless LOA_TEST_ARTIFACTS says otherwise), which CI keeps.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def _install() -> str | None:
    """apt-get install chromium once per test run; the error text when it could not."""
    if Path(CHROMIUM).exists():
        return None
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available to install chromium"
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["update", "-q"], ["install", "-y", "-q", "--no-install-recommends", "chromium", "fonts-dejavu-core"]):
        done = subprocess.run([*prefix, apt, *args], env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 and args[0] == "install":
            return f"apt-get install chromium failed: {done.stderr[-500:]}"
    return None if Path(CHROMIUM).exists() else "chromium is still missing after apt-get install"


def ensure_chromium() -> str:
    """Path of Debian's Chromium, installing it when missing (fails under CI=true, skips elsewhere)."""
    error = _install()
    if error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(error)
        pytest.skip(error)
    return CHROMIUM


def artifacts_dir(*parts: str) -> Path:
    """A folder for screenshots and other artifacts a test run keeps."""
    path = Path(os.environ.get("LOA_TEST_ARTIFACTS", ROOT / "test-artifacts")).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def html_to_png(html_path: Path, png_path: Path, *, width: int = 420, height: int = 2400) -> Path:
    """Render a local HTML file to PNG with headless Chromium (phone-sized by default)."""
    binary = ensure_chromium()
    subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={png_path}", html_path.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    return png_path
