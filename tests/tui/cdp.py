"""A headless Chromium driven over the DevTools protocol (a websocket), for the live-page tests:
open a URL, evaluate JavaScript in the page and read the live DOM. Loopback only."""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1200,1400",
)


class Chromium:
    """`with Chromium(profile_dir, url) as page: page.evaluate("document.title")`."""

    def __init__(self, profile: Path, url: str, timeout: float = 60.0) -> None:
        self.profile, self.url, self.timeout = profile, url, timeout
        self.ids = itertools.count(1)

    def __enter__(self) -> Chromium:
        self.process = subprocess.Popen(
            ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", self.url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.stack = ExitStack()
        port = self._debugging_port()
        socket = connect(self._page_socket(port), max_size=None, open_timeout=self.timeout)
        self.socket = self.stack.enter_context(socket)
        return self

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "stack"):
            self.stack.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def _debugging_port(self) -> int:
        """Chromium writes the port it chose to `DevToolsActivePort` in its profile."""
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its debugging port")

    def _page_socket(self, port: int) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t["type"] == "page"]
            for target in pages:
                if target["url"].startswith(self.url.split("?")[0]):
                    return target["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise TimeoutError(f"no chromium page for {self.url}")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools protocol call on the page; its result."""
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:  # skip protocol events until our answer comes
            message = json.loads(self.socket.recv(timeout=self.timeout))
            if message.get("id") == call_id:
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (returned by value)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """The page's viewport as a PNG (left for a human to look at)."""
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot")["data"]))

    def wait_for(self, expression: str, timeout: float = 20.0, every: float = 0.02) -> Any:
        """Poll `expression` until it is truthy; its value (fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(every)
        raise AssertionError(f"not true in the page within {timeout:.0f} s: {expression}")
