package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dockerPyImages drives images, volumes and networks with docker-py
// (Debian's python3-docker): argv is the socket URL, the image to pull
// (repository and tag), its ID and a local image to run.
const dockerPyImages = `
import sys, docker
url, repo, tag, image_id, local = sys.argv[1:]
c = docker.DockerClient(base_url=url, version="auto")

img = c.images.pull(repo, tag=tag)
assert img.id == image_id, (img.id, image_id)
assert repo + ":" + tag in [t for i in c.images.list() for t in i.tags]
assert img.tag("pytag", "1")
assert "pytag:1" in c.images.get("pytag:1").tags
c.images.remove("pytag:1")
try:
    c.images.get("pytag:1")
    raise AssertionError("pytag:1 is still there")
except docker.errors.ImageNotFound as e:
    assert "No such image" in str(e), e

v = c.volumes.create("pyvol", labels={"a": "b"})
assert c.volumes.get("pyvol").attrs["Labels"] == {"a": "b"}
assert "pyvol" in [x.name for x in c.volumes.list(filters={"label": "a=b"})]
v.remove()
try:
    c.volumes.get("pyvol")
    raise AssertionError("pyvol is still there")
except docker.errors.NotFound:
    pass

base = c.networks.create("pybase")
net = c.networks.create("pynet", labels={"x": "y"})
assert "pynet" in [n.name for n in c.networks.list(filters={"label": "x=y"})]
ctr = c.containers.run(local, "sleep 60", detach=True, network="pybase")
net.connect(ctr, aliases=["pyweb"])
net.reload()
assert [x.id for x in net.containers] == [ctr.id], net.attrs["Containers"]
ctr.reload()
assert "pyweb" in ctr.attrs["NetworkSettings"]["Networks"]["pynet"]["Aliases"]
net.disconnect(ctr)
net.reload()
assert net.containers == [], net.attrs["Containers"]
ctr.remove(force=True)
net.remove()
base.remove()
try:
    c.networks.get("bridge").remove()
    raise AssertionError("bridge removed")
except docker.errors.APIError as e:
    assert e.status_code == 403, e
print("ok")
`

// TestAPIDockerPyImages: docker-py pulls, lists, tags and removes images, makes
// and removes volumes, and networks with a container connected and
// disconnected, through the shim.
func TestAPIDockerPyImages(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		local := s.LoadBusybox()
		reg := SharedRegistry(t)
		repo := Repo(t)
		PushImage(t, reg, repo, "v1", img)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		a := startService(t, s, "--time", "0")
		script := filepath.Join(t.TempDir(), "images.py")
		if err := os.WriteFile(script, []byte(dockerPyImages), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(dockerPy, script, "unix://"+a.sock, reg.Host+"/"+repo, "v1", img.ID().String(), local)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("docker-py: %v\n%s", err, out)
		}
	})
}
