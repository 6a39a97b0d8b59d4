"""`ugatit serve` under load (ctest serve_load): 200 translations from 8
concurrent clients (each on its own keep-alive connection), every answer
complete and equal to the first; and memory flat: the server's resident
size after all 200 is at most RSS_SLACK_MB above its size after the first
round of 8 x 3, when every thread, arena and oneDNN cache it needs exists.

    python3 tests/serve/load.py UGATIT SHARED_DIR [--no-rss]

--no-rss (the sanitizer build): ASan keeps freed memory in quarantine, so
RSS grows there without a leak; LeakSanitizer checks the server's exit
instead (Server.stop)."""
import http.client
import os
import sys
import tempfile
import threading
import time

from common import Server, fail, make_model, png_size, samples

TEST = "serve_load"
CLIENTS, TOTAL, WARM = 8, 200, 24
# Per request the server holds the upload (20 KB), the photo decoded (200 KB)
# and answers of ~40 KB; a leak of any of them over the 176 measured
# requests is 7 to 35 MB (a leaked photo: +32 MB when we tried). Allocator
# noise (glibc's per-thread arenas, stacks of finished connection threads
# kept for reuse) stayed within 1 MB in our runs.
RSS_SLACK_MB = 6


def main():
    ugatit, shared = sys.argv[1], sys.argv[2]
    check_rss = "--no-rss" not in sys.argv[3:]
    selfie = open(os.path.join(samples(TEST, shared), "testA", "female_2321.jpg"), "rb").read()
    with tempfile.TemporaryDirectory(prefix="ugatit_serve_load_") as tmp:
        srv = Server(TEST, ugatit, make_model(ugatit, tmp))
        status, want = srv.post_image(selfie)
        if status != 200:
            fail(TEST, f"first translation: {status} {want}")
        for r in want["results"]:
            png_size(r["image"])
        lock, done, errors, rss = threading.Lock(), [0], [], {}

        def client(k):
            conn = http.client.HTTPConnection(srv.host, srv.port, timeout=300)
            for i in range(k, TOTAL, CLIENTS):
                try:
                    status, doc = srv.post_image(selfie, f"c{k}_{i}.jpg", conn)
                    ok = status == 200 and doc["results"] == want["results"] and \
                        doc["input"] == want["input"]
                    why = doc.get("error", "other pictures")
                    msg = "" if ok else f"request {i}: {status} {why}"
                except Exception as e:  # a dropped connection is a lost request
                    msg = f"request {i}: {type(e).__name__}: {e}"
                    conn.close()
                    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=300)
                with lock:
                    done[0] += 1
                    if msg:
                        errors.append(msg)
                    if done[0] == WARM:
                        rss["warm"] = srv.rss_kb()
            conn.close()

        t0 = time.time()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.time() - t0
        rss["end"] = srv.rss_kb()
        # Counted after the server has stopped and its output is read to the
        # end: the last answers may reach the clients before their log lines
        # reach us.
        srv.stop()
        answered = sum(1 for line in srv.lines if " 200 (256x256" in line and "translate c" in line)
    if errors:
        fail(TEST, f"{len(errors)} of {TOTAL} requests failed, first: {errors[0]}")
    if answered != TOTAL:
        fail(TEST, f"the server logged {answered} translations, not {TOTAL}")
    grow = (rss["end"] - rss["warm"]) / 1024
    print(f"{TEST}: {TOTAL} requests from {CLIENTS} clients in {seconds:.1f} s, all answered "
          f"correctly; RSS {rss['warm'] / 1024:.1f} MB after {WARM}, {rss['end'] / 1024:.1f} MB "
          f"after {TOTAL} ({grow:+.1f} MB)")
    if not check_rss:
        print(f"{TEST}: RSS not checked (--no-rss: a sanitizer build; LeakSanitizer "
              "checked the server's exit)")
    elif grow > RSS_SLACK_MB:
        fail(TEST, f"server RSS grew by {grow:.1f} MB after warm-up (limit {RSS_SLACK_MB} MB)")


if __name__ == "__main__":
    main()
