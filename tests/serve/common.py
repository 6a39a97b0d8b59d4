"""What the `ugatit serve` tests share: a tiny model made with the program
itself, a server on a free port, HTTP calls and PNG checks (stdlib only)."""
import atexit
import base64
import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib


def fail(test, msg):
    print(f"{test}: {msg}", file=sys.stderr)
    sys.exit(1)


def samples(test, shared):
    d = os.path.join(shared, "data", "selfie2anime-sample")
    if not os.path.isdir(d):
        fail(test, "needs the sample data: ../shared/data/selfie2anime-sample beside the clone "
                   f"(not found at {d})")
    return d


def make_model(ugatit, tmp, size=64, extra=()):
    """A light model trained for one step on `make-shapes` data."""
    data, res = os.path.join(tmp, "shapes"), os.path.join(tmp, "r" + "".join(extra))
    if not os.path.isdir(data):
        subprocess.run([ugatit, "make-shapes", "--out", data, "--n", "2", "--size", str(size)],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run([ugatit, "train", "--dataset", data, "--result_dir", res, "--iteration", "1",
                    "--img_size", str(size), "--ch", "4", "--n_res", "1", "--n_dis", "4",
                    "--light", "true", "--threads", "1", *extra],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(res, "shapes", "model", "shapes_params_0000001.safetensors")


def a2b_only(src, dst):
    """The checkpoint src with genA2B's tensors only (safetensors: an 8-byte
    header length, a JSON header of offsets, then the data)."""
    with open(src, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header, data = json.loads(blob[8:8 + n]), blob[8 + n:]
    out, parts, off = {}, [], 0
    for k, v in header.items():
        if k == "__metadata__":
            out[k] = v
        elif k.startswith("genA2B."):
            b, e = v["data_offsets"]
            parts.append(data[b:e])
            out[k] = dict(v, data_offsets=[off, off + e - b])
            off += e - b
    h = json.dumps(out).encode()
    h += b" " * (-len(h) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(parts))
    return dst


def kill(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait()


class Server:
    """`ugatit serve --port 0 ...`, its URL read from its first line; the rest
    of its output kept in self.lines."""

    def __init__(self, test, ugatit, model, *args):
        self.test = test
        self.proc = subprocess.Popen([ugatit, "serve", "--model", model, "--port", "0",
                                      "--threads", "1", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        atexit.register(kill, self.proc)  # a failed test leaves no server behind
        first = self.proc.stdout.readline()
        if not first.startswith("serving http://"):
            self.proc.kill()
            fail(test, f"server did not start: {first}{self.proc.stdout.read()}")
        self.lines = [first]
        self.url = first.split()[1].rstrip("/")
        self.host, port = self.url[len("http://"):].rsplit(":", 1)
        self.port = int(port)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        """SIGTERM; the server must end by itself with status 0 (under ASan,
        LeakSanitizer then fails it for any leak)."""
        if not self.alive():
            fail(self.test, f"server died (status {self.proc.returncode}):\n" +
                 "".join(self.lines[-20:]))
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail(self.test, "server did not stop within 60 s of SIGTERM")
        self.reader.join(timeout=10)
        if rc != 0 or not any(line.startswith("stopping (SIGTERM)") for line in self.lines):
            fail(self.test, f"server ended with status {rc}:\n" + "".join(self.lines[-40:]))

    def request(self, method, path, body=None, headers=None, conn=None):
        """(status, content type, body bytes)."""
        c = conn or http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.getheader("Content-Type", ""), r.read()
        finally:
            if conn is None:
                c.close()

    def post_image(self, data, name=None, conn=None):
        """POST /api/translate with data as the raw body: (status, JSON)."""
        h = {"Content-Type": "application/octet-stream"}
        if name:
            h["X-Filename"] = name
        status, ctype, body = self.request("POST", "/api/translate", data, h, conn)
        if ctype != "application/json":
            fail(self.test, f"/api/translate answered {status} with {ctype!r}: {body[:200]!r}")
        return status, json.loads(body)


def png_size(url):
    """(width, height) of a PNG data: URL, after checking its chunks' CRCs
    and that its pixels inflate to the size the header says."""
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix), url[:40]
    png = base64.b64decode(url[len(prefix):], validate=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
    pos, idat, w = 8, b"", None
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + n]
        crc = struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0]
        assert zlib.crc32(kind + chunk) == crc, f"bad CRC in {kind}"
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", chunk[:10])
            assert (depth, ctype) == (8, 2), f"not 8-bit RGB: {depth}, {ctype}"
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    assert w and len(zlib.decompress(idat)) == h * (1 + 3 * w), "pixel data size"
    return w, h


def png_bytes(w, h, rows):
    """A PNG of w x h 8-bit RGB with the given (already filtered) zlib data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def bomb_png(side):
    """A real decompression bomb: a side x side black PNG, about 1/1000 of its
    decoded size (compressed row by row, without holding the pixels)."""
    z, row, parts = zlib.compressobj(9), b"\0" * (1 + 3 * side), []
    for _ in range(side):
        parts.append(z.compress(row))
    parts.append(z.flush())
    return png_bytes(side, side, b"".join(parts))


def wait_until(cond, seconds, what, test):
    end = time.time() + seconds
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    fail(test, f"timed out after {seconds} s waiting for {what}")
