"""docker-py (Debian's python3-docker) against `skiff system service`.

Run by TestAPIDockerPy with DOCKER_HOST set to the service's socket and
SKIFF_IMAGE to the busybox image the runner loaded.
"""
import io
import os
import tarfile
import time
import unittest

import docker
from docker.errors import NotFound

IMAGE = os.environ["SKIFF_IMAGE"]


class Containers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = docker.from_env()

    def run_detached(self, cmd, **kw):
        c = self.client.containers.run(IMAGE, cmd, detach=True, network_mode="none", **kw)
        self.addCleanup(self.remove_quietly, c)
        return c

    @staticmethod
    def remove_quietly(c):
        try:
            c.remove(force=True)
        except NotFound:
            pass

    def test_run_detached_logs_wait(self):
        # Apart in time: stdout and stderr are two pipes, read side by side.
        c = self.run_detached(["sh", "-c", "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three"])
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 0)
        self.assertEqual(c.logs(), b"one\ntwo\nthree\n")
        self.assertEqual(c.logs(stderr=False), b"one\nthree\n")
        self.assertEqual(c.logs(stdout=False), b"two\n")
        c.reload()
        self.assertEqual(c.status, "exited")
        self.assertEqual(c.attrs["State"]["ExitCode"], 0)

    def test_run_foreground(self):
        out = self.client.containers.run(IMAGE, ["echo", "hi"], network_mode="none", remove=True)
        self.assertEqual(out, b"hi\n")

    def test_logs_follow_stream(self):
        c = self.run_detached(["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done"])
        got = b"".join(c.logs(stream=True, follow=True))
        self.assertEqual(got, b"1\n2\n3\n")

    def test_stop_wait_remove(self):
        c = self.run_detached(["sleep", "100"])
        c.reload()
        self.assertEqual(c.status, "running")
        c.stop(timeout=1)
        # sleep as PID 1 ignores SIGTERM: killed after the timeout.
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 137)
        c.reload()
        self.assertEqual(c.status, "exited")
        c.remove()
        with self.assertRaises(NotFound):
            self.client.containers.get(c.id)

    def test_wait_exit_code(self):
        c = self.run_detached(["sh", "-c", "exit 3"])
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 3)

    def test_exec_run(self):
        c = self.run_detached(["sleep", "100"])
        res = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 4"], demux=True)
        self.assertEqual(res.exit_code, 4)
        self.assertEqual(res.output, (b"out\n", b"err\n"))
        res = c.exec_run(["sh", "-c", "test -t 1 && echo tty"], tty=True)
        self.assertEqual((res.exit_code, res.output), (0, b"tty\r\n"))
        res = c.exec_run(["sh", "-c", "echo streamed"], stream=True)
        self.assertEqual(b"".join(res.output), b"streamed\n")

    def test_attach_socket(self):
        # Attached before the start: the first line is not lost, and what
        # is sent on the socket reaches the container's stdin.
        c = self.client.containers.create(IMAGE, ["sh", "-c", "echo first; cat"], network_mode="none",
                                          stdin_open=True)
        self.addCleanup(self.remove_quietly, c)
        sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
        raw = sock._sock
        c.start()
        raw.sendall(b"typed\n")
        buf, out = b"", b""
        deadline = time.time() + 20
        while out != b"first\ntyped\n" and time.time() < deadline:
            raw.settimeout(deadline - time.time())
            buf += raw.recv(4096)
            # Multiplexed frames: stream 1, three zeros, the big-endian length.
            while len(buf) >= 8 and len(buf) >= 8 + int.from_bytes(buf[4:8], "big"):
                n = int.from_bytes(buf[4:8], "big")
                self.assertEqual(buf[:4], b"\x01\x00\x00\x00")
                out, buf = out + buf[8:8 + n], buf[8 + n:]
        raw.close()
        self.assertEqual(out, b"first\ntyped\n")
        c.kill()

    def test_list_filters(self):
        c = self.run_detached(["sleep", "100"], labels={"e2e.py": "list"})
        ids = [x.id for x in self.client.containers.list(filters={"label": "e2e.py=list"})]
        self.assertEqual(ids, [c.id])
        c.kill()
        c.wait(timeout=30)
        self.assertEqual(self.client.containers.list(filters={"label": "e2e.py=list"}), [])
        ids = [x.id for x in self.client.containers.list(all=True, filters={"label": "e2e.py=list", "status": "exited"})]
        self.assertEqual(ids, [c.id])

    def test_put_get_archive(self):
        c = self.run_detached(["sleep", "100"])
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            data = b"from docker-py\n"
            info = tarfile.TarInfo("put.txt")
            info.size = len(data)
            info.mode = 0o640
            tar.addfile(info, io.BytesIO(data))
        self.assertTrue(c.put_archive("/tmp", buf.getvalue()))
        stream, stat = c.get_archive("/tmp/put.txt")
        self.assertEqual(stat["name"], "put.txt")
        self.assertEqual(stat["size"], len(data))
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmember("put.txt")
            self.assertEqual(member.mode & 0o777, 0o640)
            self.assertEqual(tar.extractfile(member).read(), data)
        with self.assertRaises(NotFound):
            c.get_archive("/tmp/nope")

    def test_unknown_container(self):
        with self.assertRaises(NotFound) as cm:
            self.client.containers.get("no-such-container")
        self.assertIn("No such container", str(cm.exception))

    def test_events_filter(self):
        since = int(time.time()) - 1
        c = self.run_detached(["sh", "-c", "exit 2"], name="pyevents")
        c.wait(timeout=30)
        evs = list(self.client.events(since=since, until=int(time.time()) + 1, decode=True,
                                      filters={"event": "die", "container": "pyevents"}))
        self.assertEqual([e["Action"] for e in evs], ["die"])
        self.assertEqual(evs[0]["Actor"]["Attributes"]["exitCode"], "2")
        self.assertEqual(evs[0]["Actor"]["Attributes"]["name"], "pyevents")
        self.assertEqual(evs[0]["id"], c.id)


if __name__ == "__main__":
    unittest.main()
