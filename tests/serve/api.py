"""`ugatit serve` over HTTP (ctest serve_api): good uploads (raw and as a
multipart form) come back as the model's pictures; bad ones (not an image,
truncated, too large, a decompression bomb, a client gone mid-upload, a
broken request) get a clear error and the server goes on; a checkpoint with
one generator, or without attention, shows only what it has.

    python3 tests/serve/api.py UGATIT SHARED_DIR"""
import os
import subprocess
import socket
import sys
import tempfile

from common import Server, bomb_png, fail, make_model, png_bytes, png_size, samples, a2b_only

TEST = "serve_api"
checks = 0


def check(cond, msg):
    global checks
    if not cond:
        fail(TEST, msg)
    checks += 1


def expect_error(srv, data, status, words, name=None):
    got, doc = srv.post_image(data, name)
    check(got == status and all(w in doc.get("error", "") for w in words),
          f"expected {status} naming {words}, got {got}: {doc}")


def expect_translation(doc, size, directions, cam, photo):
    check(doc.get("width") == photo[0] and doc.get("height") == photo[1], f"photo size: {doc}")
    check(png_size(doc["input"]) == (size, size), "input picture size")
    got = [r["direction"] for r in doc["results"]]
    check(got == directions, f"directions {got}, expected {directions}")
    for r in doc["results"]:
        check(png_size(r["image"]) == (size, size), f"{r['direction']} picture size")
        check(("heatmap" in r) == cam, f"heatmap present: {'heatmap' in r}, expected {cam}")
        if cam:
            check(png_size(r["heatmap"]) == (size, size), "heatmap size")


def multipart(field, filename, data):
    """A form with a text field, then field (a file when filename is given)."""
    b = "ugatit-test-boundary"
    file = f'; filename="{filename}"' if filename else ""
    body = (f'--{b}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="{field}"{file}\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + \
        f"\r\n--{b}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={b}"}


def subprocess_run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def main():
    ugatit, shared = sys.argv[1], sys.argv[2]
    sample = samples(TEST, shared)
    selfie = open(os.path.join(sample, "testA", "female_2321.jpg"), "rb").read()
    anime = open(os.path.join(sample, "testB", "3414.png"), "rb").read()
    with tempfile.TemporaryDirectory(prefix="ugatit_serve_api_") as tmp:
        model = make_model(ugatit, tmp)
        srv = Server(TEST, ugatit, model, "--max_upload", "1")

        status, ctype, body = srv.request("GET", "/")
        check(status == 200 and ctype.startswith("text/html") and b"id='file'" in body,
              f"GET / answered {status} {ctype}")
        status, _, body = srv.request("GET", "/api/info")
        check(status == 200 and b'"directions":["A2B","B2A"]' in body and b'"cam":true' in body
              and b'"img_size":64' in body and b'"max_upload_bytes":1048576' in body,
              f"/api/info: {body!r}")

        # Good uploads: the raw body, and a form's file field (curl -F image=@...).
        status, doc = srv.post_image(selfie, "female_2321.jpg")
        check(status == 200, f"selfie: {status} {doc.get('error')}")
        expect_translation(doc, 64, ["A2B", "B2A"], True, (256, 256))
        first = doc
        body, headers = multipart("image", "3414.png", anime)
        status, _, raw = srv.request("POST", "/api/translate", body, headers)
        check(status == 200, f"multipart: {status} {raw[:200]!r}")
        # The same photo twice gives the same pictures.
        status, doc = srv.post_image(selfie)
        check(status == 200 and doc["results"] == first["results"], "a second run differs")

        # Bad uploads: each a clear message naming the file, and the server goes on.
        expect_error(srv, b"hello, not a picture\n", 400, ["notes.txt: not a PNG or JPEG image"],
                     "notes.txt")
        expect_error(srv, b"", 400, ["upload: empty file"])
        expect_error(srv, selfie[:len(selfie) // 3], 400, ["truncated JPEG"], "half.jpg")
        expect_error(srv, anime[:len(anime) // 2], 400, ["half.png: corrupt or truncated PNG"],
                     "half.png")
        expect_error(srv, os.urandom(1536 * 1024), 413, ["big.bin: 1572864 bytes",
                                                         "more than the server takes (1 MB)"],
                     "big.bin")
        body, headers = multipart("image", "big.jpg", os.urandom(1100 * 1024))
        status, _, raw = srv.request("POST", "/api/translate", body, headers)
        check(status == 413 and b"more than the server takes" in raw, f"big form: {status}")
        body, headers = multipart("other", None, b"x")
        status, _, raw = srv.request("POST", "/api/translate", body, headers)
        check(status == 400 and b"field 'image'" in raw, f"form without a file: {raw!r}")
        # Decompression bombs: a real one (8000x8000 black, 64 Mpixel, ~200 KB)
        # and a header claiming 100000x100000; both refused from the header.
        bomb = bomb_png(8000)
        check(len(bomb) < 1024 * 1024, f"bomb of {len(bomb)} bytes")
        expect_error(srv, bomb, 400, ["bomb.png: PNG of 8000x8000 pixels is larger than the "
                                      "limit of 40000000 pixels"], "bomb.png")
        expect_error(srv, png_bytes(100000, 100000, b""), 400, ["100000x100000"])
        sof = selfie.index(b"\xff\xc0")  # baseline frame header: height, width at +5, +7
        huge = bytearray(selfie)
        huge[sof + 5:sof + 9] = bytes([0xea, 0x60, 0xea, 0x60])  # 60000 x 60000
        expect_error(srv, bytes(huge), 400, ["JPEG of 60000x60000 pixels is larger"])
        # A client that goes away mid-upload, and one that speaks no HTTP.
        s = socket.create_connection((srv.host, srv.port))
        s.sendall(b"POST /api/translate HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                  selfie[:5000])
        s.close()
        s = socket.create_connection((srv.host, srv.port))
        s.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        s.recv(4096)
        s.close()
        # Only local Host names (against DNS rebinding); other paths and methods.
        for host, want in (("evil.example:80", 403), (f"localhost:{srv.port}", 200),
                           (f"[::1]:{srv.port}", 200), ("127.0.0.2", 200), ("[::2]", 403)):
            status, _, raw = srv.request("GET", "/api/info", headers={"Host": host})
            check(status == want, f"Host {host}: {status} {raw[:200]!r}")
        check(b"Host 'evil.example:80' is not this server" in srv.request(
            "GET", "/", headers={"Host": "evil.example:80"})[2], "the Host refusal's message")
        status, _, raw = srv.request("GET", "/nope")
        check(status == 404 and b"/nope: no such page" in raw, f"/nope: {status} {raw!r}")
        status, _, raw = srv.request("GET", "/api/translate")
        check(status == 405 and b"does not take GET" in raw, f"GET /api/translate: {status}")
        # Still serving.
        status, doc = srv.post_image(selfie)
        check(status == 200 and doc["results"] == first["results"], "after the bad uploads")
        srv.stop()  # before reading its log: stop() reads the output to the end
        log = "".join(srv.lines)
        check("translate notes.txt: 400 notes.txt: not a PNG or JPEG image" in log,
              f"log lacks the error line:\n{log}")

        # Only genA2B in the file: one direction. Without CAM: no heatmap.
        srv = Server(TEST, ugatit, a2b_only(model, os.path.join(tmp, "a2b.safetensors")))
        check("A2B only (B2A: " in srv.lines[0] and "genB2A" in srv.lines[0],
              f"banner: {srv.lines[0]}")
        status, doc = srv.post_image(anime)
        check(status == 200, f"A2B-only model: {status} {doc.get('error')}")
        expect_translation(doc, 64, ["A2B"], True, (256, 256))
        srv.stop()
        srv = Server(TEST, ugatit, make_model(ugatit, tmp, 64, ("--cam_g", "false")))
        check("A2B and B2A)" in srv.lines[0], f"banner: {srv.lines[0]}")
        status, doc = srv.post_image(selfie)
        check(status == 200, f"no-CAM model: {status} {doc.get('error')}")
        expect_translation(doc, 64, ["A2B", "B2A"], False, (256, 256))
        srv.stop()

        # Startup errors: a port in use, a model that is not one.
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            r = subprocess_run([ugatit, "serve", "--model", model, "--port", str(port)])
            check(r.returncode == 1 and f"cannot listen on 127.0.0.1 port {port}: Address already "
                  "in use" in r.stderr, f"busy port: {r.returncode} {r.stderr}")
        r = subprocess_run([ugatit, "serve", "--model", os.path.join(tmp, "nothing.safetensors")])
        check(r.returncode == 1 and "nothing.safetensors" in r.stderr and
              r.stderr.count("\n") == 1, f"missing model: {r.returncode} {r.stderr}")
    print(f"{TEST}: {checks} checks passed")


if __name__ == "__main__":
    main()
