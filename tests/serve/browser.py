"""`ugatit serve` in a real browser (ctest serve_browser): Debian's headless
Chromium, driven through chromedriver's WebDriver HTTP API with Python's
standard library. Opens the page, picks a text file (the page must show the
server's error), then the sample selfie, waits for the pictures, checks
that each one loaded and has a download link, and saves a screenshot.

    python3 tests/serve/browser.py UGATIT SHARED_DIR SCREENSHOT.png"""
import atexit
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from common import Server, fail, kill, make_model, samples, wait_until

TEST = "serve_browser"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element key


class Driver:
    def __init__(self, tmp):
        for exe in ("chromium", "chromedriver"):
            if not shutil.which(exe):
                fail(TEST, f"needs {exe} (Debian packages chromium and chromium-driver; "
                           "scripts/deps.sh installs them): not found on PATH")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(os.path.join(tmp, "chromedriver.log"), "w")
        self.proc = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        atexit.register(kill, self.proc)
        wait_until(self._ready, 30, "chromedriver", TEST)
        # As root (CI, the fresh Debian root) Chromium's sandbox cannot start;
        # /dev/shm may be missing in a chroot; there is no GPU or display.
        args = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1500,760", f"--user-data-dir={tmp}/profile", "--no-first-run",
                "--hide-scrollbars"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": shutil.which("chromium"), "args": args}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def _ready(self):
        try:
            return self.call("GET", "/status", raw=True)["ready"]
        except (OSError, urllib.error.URLError):
            return False

    def call(self, method, path, body=None, raw=False):
        url = self.base + path if raw or path == "/session" else \
            f"{self.base}/session/{self.session}{path}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            fail(TEST, f"WebDriver {method} {path}: {e.code} {e.read()[:400]!r}")

    def js(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def pick(self, path):
        """Chooses path in the page's file input, as a person would."""
        el = self.call("POST", "/element", {"using": "css selector", "value": "#file"})[ELEMENT]
        self.call("POST", f"/element/{el}/value", {"text": os.path.realpath(path)})

    def wait_state(self, states):
        return wait_until(lambda: self.js("return document.body.dataset.state") in states and
                          self.js("return document.body.dataset.state"), 60,
                          f"the page to reach {states}", TEST)

    def quit(self):
        try:
            self.call("DELETE", "")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.log.close()


def main():
    ugatit, shared, shot = sys.argv[1], sys.argv[2], sys.argv[3]
    selfie = os.path.join(samples(TEST, shared), "testA", "female_2321.jpg")
    with tempfile.TemporaryDirectory(prefix="ugatit_serve_browser_") as tmp:
        srv = Server(TEST, ugatit, make_model(ugatit, tmp, 128))
        drv = Driver(tmp)
        try:
            drv.call("POST", "/url", {"url": srv.url + "/"})
            wait_until(lambda: drv.js("return document.getElementById('model').textContent"),
                       30, "the page to show the model", TEST)
            notes = os.path.join(tmp, "notes.txt")
            with open(notes, "w") as f:
                f.write("not a picture\n")
            drv.pick(notes)
            state = drv.wait_state(("done", "error"))
            msg = drv.js("return document.getElementById('error').textContent")
            if state != "error" or "notes.txt: not a PNG or JPEG image" not in msg:
                fail(TEST, f"a text file: page state {state}, message {msg!r}")
            drv.pick(selfie)
            state = drv.wait_state(("done", "error"))
            if state != "done":
                fail(TEST, "the selfie: " +
                     drv.js("return document.getElementById('error').textContent"))
            wait_until(lambda: drv.js("return [...document.images].every(i => i.complete)"), 30,
                       "the pictures to load", TEST)
            pics = drv.js("return [...document.querySelectorAll('figure')].map(f => "
                          "[f.querySelector('figcaption span').textContent, "
                          "f.querySelector('img').naturalWidth, "
                          "(f.querySelector('a') || {}).download || null])")
            want = [["photo (256x256)", 128, None],
                    ["A2B", 128, "female_2321_A2B.png"],
                    ["A2B attention", 128, "female_2321_A2B_attention.png"],
                    ["B2A", 128, "female_2321_B2A.png"],
                    ["B2A attention", 128, "female_2321_B2A_attention.png"]]
            if pics != want:
                fail(TEST, f"pictures on the page: {pics}, expected {want}")
            png = base64.b64decode(drv.call("GET", "/screenshot"))
            if png[:8] != b"\x89PNG\r\n\x1a\n":
                fail(TEST, "the screenshot is not a PNG")
            with open(shot, "wb") as f:
                f.write(png)
        finally:
            drv.quit()
        srv.stop()
    print(f"{TEST}: the page showed the error, then the selfie in {len(pics) - 1} pictures; "
          f"screenshot {shot}")


if __name__ == "__main__":
    main()
