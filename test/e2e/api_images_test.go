package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/skiff-engine/skiff/test/fixture"
)

// TestAPIImages: the docker CLI's image commands through the shim against
// the tests' registry: pull, images, tag, inspect, history, push,
// save/load, rmi, commit, image prune; and distribution inspect by curl.
func TestAPIImages(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		repo := Repo(t)
		ref := PushImage(t, reg, repo, "v1", img)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		a := startService(t, s, "--time", "0")
		short := img.ID().Encoded()[:12]

		out := a.mustDocker(t, "pull", ref)
		for _, want := range []string{"v1: Pulling from " + repo, "Pull complete", "Digest: " + img.Manifest.Digest.String(), "Status: Downloaded newer image for " + ref} {
			if !strings.Contains(out, want) {
				t.Errorf("docker pull: no %q in\n%s", want, out)
			}
		}
		if out := a.mustDocker(t, "pull", ref); !strings.Contains(out, "Status: Image is up to date for "+ref) {
			t.Errorf("second docker pull:\n%s", out)
		}

		lines := strings.Split(a.mustDocker(t, "images"), "\n")
		if !regexp.MustCompile(`^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$`).MatchString(lines[0]) {
			t.Errorf("docker images header: %q", lines[0])
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(reg.Host+"/"+repo) + `\s+v1\s+` + short + `\s+\S.*\s+\d+(\.\d+)?[kM]B$`).MatchString(strings.Join(lines[1:], "\n")) {
			t.Errorf("docker images: no row for %s %s:\n%s", ref, short, strings.Join(lines, "\n"))
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(a.mustDocker(t, "images", "--format", "json", "--filter", "reference="+reg.Host+"/"+repo)), &row); err != nil {
			t.Fatalf("docker images --format json: %v", err)
		}
		if row["Repository"] != reg.Host+"/"+repo || row["Tag"] != "v1" || row["ID"] != short {
			t.Errorf("docker images --format json: %v", row)
		}

		// tag, and inspect of a name with a port, slashes and a tag.
		ref2 := reg.Host + "/" + repo + "-copy:v2"
		a.mustDocker(t, "tag", ref, ref2)
		if out := a.mustDocker(t, "image", "inspect", "--format", "{{.Id}} {{index .RepoTags 1}} {{.Os}} {{index .Config.Cmd 0}}", ref2); out != img.ID().String()+" "+ref2+" linux sh" &&
			out != img.ID().String()+" "+ref+" linux sh" {
			t.Errorf("docker image inspect: %q", out)
		}
		if status, _, body := a.curl(t, "http://d/images/"+ref2+"/json"); status != 200 || !strings.Contains(body, `"Id":"`+img.ID().String()+`"`) {
			t.Errorf("GET /images/%s/json: %d %s", ref2, status, body)
		}
		hist := strings.Split(a.mustDocker(t, "history", ref2), "\n")
		if !regexp.MustCompile(`^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$`).MatchString(hist[0]) || len(hist) < 2 || !strings.HasPrefix(hist[1], short) {
			t.Errorf("docker history:\n%s", strings.Join(hist, "\n"))
		}

		// push the new name; the registry has it.
		out = a.mustDocker(t, "push", ref2)
		if !strings.Contains(out, "The push refers to repository ["+reg.Host+"/"+repo+"-copy]") || !strings.Contains(out, "v2: digest: sha256:") {
			t.Errorf("docker push:\n%s", out)
		}
		if m := GetManifest(t, reg, repo+"-copy", "v2"); !strings.Contains(out, m.Digest.String()) {
			t.Errorf("docker push printed no %s:\n%s", m.Digest, out)
		}

		// save, rmi, load.
		archive := filepath.Join(t.TempDir(), "save.tar")
		a.mustDocker(t, "save", "-o", archive, ref, ref2)
		if fi, err := os.Stat(archive); err != nil || fi.Size() < 1000 {
			t.Fatalf("docker save: %v", err)
		}
		out = a.mustDocker(t, "rmi", ref, ref2)
		if !strings.Contains(out, "Untagged: "+ref) || !strings.Contains(out, "Untagged: "+ref2) || !strings.Contains(out, "Deleted: "+img.ID().String()) {
			t.Errorf("docker rmi:\n%s", out)
		}
		if out, err := a.docker(t, "rmi", "nope"); err == nil || !strings.Contains(out, "No such image: nope") {
			t.Errorf("docker rmi nope: %v %q", err, out)
		}
		out = a.mustDocker(t, "load", "-i", archive)
		if !strings.Contains(out, "Loaded image: "+ref) || !strings.Contains(out, "Loaded image: "+ref2) {
			t.Errorf("docker load:\n%s", out)
		}
		if out := a.mustDocker(t, "load", "-q", "-i", archive); !strings.Contains(out, "Loaded image: "+ref) {
			t.Errorf("docker load -q:\n%s", out)
		}

		// commit: named with a change, and dangling (which prune removes).
		a.mustDocker(t, "run", "-d", "--name", "cm", ref, "sh", "-c", "echo committed > /marker")
		a.mustDocker(t, "wait", "cm")
		id := a.mustDocker(t, "commit", "-c", `CMD ["cat", "/marker"]`, "-m", "the marker", "cm", "committed:1")
		if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
			t.Fatalf("docker commit: %q", id)
		}
		if out := a.runOutput(t, "committed:1"); out != "committed" {
			t.Errorf("the committed image's CMD printed %q", out)
		}
		if out := a.mustDocker(t, "history", "--format", "{{.Comment}}", "committed:1"); !strings.HasPrefix(out, "the marker") {
			t.Errorf("committed image's history comment: %q", out)
		}
		// import: the container's export as a one-layer image.
		export := filepath.Join(t.TempDir(), "export.tar")
		a.mustDocker(t, "export", "-o", export, "cm")
		imported := a.mustDocker(t, "import", "-c", `CMD ["cat", "/marker"]`, "-m", "from export", export, "imported:1")
		if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(imported) {
			t.Errorf("docker import: %q", imported)
		}
		if out := a.runOutput(t, "imported:1"); out != "committed" {
			t.Errorf("the imported image's CMD printed %q", out)
		}

		dangling := a.mustDocker(t, "commit", "cm")
		out = a.mustDocker(t, "image", "prune", "-f")
		if !strings.Contains(out, "deleted: "+dangling) || !strings.Contains(out, "Total reclaimed space:") {
			t.Errorf("docker image prune (dangling %s):\n%s", dangling, out)
		}
		if out := a.mustDocker(t, "images", "-q", "--no-trunc"); strings.Contains(out, dangling) || !strings.Contains(out, id) {
			t.Errorf("after image prune: %q, want %s and not %s", out, id, dangling)
		}

		// docker-archive of one image by its name's route
		if status, h, body := a.curl(t, "--raw", "http://d/images/"+id+"/get"); status != 200 || h.Get("Content-Type") != "application/x-tar" || !strings.Contains(body, "manifest.json") {
			t.Errorf("GET /images/%s/get: %d %s, %d bytes", id, status, h.Get("Content-Type"), len(body))
		}

		// prune -a (dangling=false): every image no container uses.
		out = a.mustDocker(t, "image", "prune", "-af")
		if !strings.Contains(out, "deleted: "+id) || !strings.Contains(out, "deleted: "+imported) || strings.Contains(out, img.ID().String()) {
			t.Errorf("docker image prune -a (cm uses %s):\n%s", img.ID(), out)
		}
		if ids := slices.Compact(strings.Fields(a.mustDocker(t, "images", "-q", "--no-trunc"))); len(ids) != 1 || ids[0] != img.ID().String() {
			t.Errorf("images after prune -a: %q, want only %s (cm's)", ids, img.ID())
		}

		// distribution inspect asks the registry.
		status, _, body := a.curl(t, "http://d/distribution/"+ref+"/json")
		var dist struct {
			Descriptor struct {
				Digest string
				Size   int64
			}
			Platforms []struct{ OS, Architecture string }
		}
		json.Unmarshal([]byte(body), &dist)
		if status != 200 || dist.Descriptor.Digest != img.Manifest.Digest.String() || len(dist.Platforms) != 1 || dist.Platforms[0].OS != "linux" || dist.Platforms[0].Architecture != "amd64" {
			t.Errorf("distribution: %d %s", status, body)
		}
	})
}

// TestAPIImagesBadInput: Docker's 4xx and messages for bad image requests,
// and a pull's failure in the stream.
func TestAPIImagesBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		reg := SharedRegistry(t)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		a := startService(t, s, "--time", "0")
		missingName := reg.Host + "/" + Repo(t)
		missing := url.QueryEscape(missingName)
		checkCurl(t, a, []curlCase{
			{[]string{"http://d/images/nope/json"}, 404, "No such image: nope"},
			{[]string{"http://d/images/nope/history"}, 404, "No such image: nope"},
			{[]string{"-X", "DELETE", "http://d/images/nope"}, 404, "No such image: nope"},
			{[]string{"http://d/images/nope/get"}, 404, "No such image: nope"},
			{[]string{"-X", "POST", "http://d/images/create?fromImage=Bad!!"}, 400, "invalid reference format"},
			{[]string{"-X", "POST", "http://d/images/create"}, 400, "fromImage"},
			{[]string{"-X", "POST", "http://d/images/create?fromSrc=http://example.com/x.tar"}, 400, "fromSrc=-"},
			{[]string{"-X", "POST", "http://d/images/create?fromImage=" + missing + "&tag=v1&platform=linux"}, 400, "invalid platform"},
			{[]string{"-X", "POST", "http://d/images/create?fromImage=" + missing + "&tag=v1"}, 404, missingName + ":v1: image not found"},
			{[]string{`http://d/images/json?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D`}, 400, "bogus"},
			{[]string{`http://d/images/json?filters=notjson`}, 400, "invalid filter"},
			{[]string{"-X", "POST", "http://d/images/" + image + "/push"}, 400, "missing X-Registry-Auth"},
			{[]string{"-X", "POST", "http://d/images/" + image + "/tag"}, 400, "repository"},
			{[]string{"-X", "POST", "http://d/images/" + image + "/tag?repo=Bad!!"}, 400, "invalid reference format"},
			{[]string{"-X", "POST", "http://d/images/nope/tag?repo=x"}, 404, "No such image: nope"},
			{[]string{"http://d/images/search?term=busybox"}, 501, "search"},
			{[]string{"-X", "POST", "http://d/build"}, 501, "skiff has no builder yet"},
			{[]string{"-X", "POST", "http://d/commit?container=nope"}, 404, "nope"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Cmd":"notalist"}`, "http://d/commit?container=nope"}, 400, "invalid JSON"},
			{[]string{"-X", "POST", "--data-binary", "not a tar", "http://d/images/load"}, 400, ""},
			{[]string{"-X", "POST", "http://d/images/prune?filters=%7B%22dangling%22%3A%7B%22maybe%22%3Atrue%7D%7D"}, 400, "dangling"},
		})
		if out := a.mustDocker(t, "images", "-q"); len(strings.Fields(out)) != 1 {
			t.Errorf("bad requests changed the images: %q", out)
		}
		if out, err := a.docker(t, "pull", reg.Host+"/"+Repo(t)+":v1"); err == nil || strings.Count(out, "\n") > 1 {
			t.Errorf("docker pull of a missing repository: %v %q, want one error line", err, out)
		}
	})
}

// TestAPIImagesGoClient: the moby Go client pulls (reading the stream to
// its end) and lists; a client that drops mid-pull leaves the service
// serving and no half image behind.
func TestAPIImagesGoClient(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	big := Layered(t, fixture.LayersOptions{Layers: 2, Size: 64 << 20, Uncompressed: true, Seed: 11})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		ref := PushImage(t, reg, Repo(t), "v1", img)
		bigRef := PushImage(t, reg, Repo(t), "big", big)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		a := startService(t, s, "--time", "0")
		cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		// a client that goes after the first progress lines
		c, err := net.Dial("unix", a.sock)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "POST /v1.44/images/create?fromImage="+url.QueryEscape(bigRef)+" HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n")
		br := bufio.NewReader(c)
		first, err := br.ReadString('\n')
		if err != nil || !strings.Contains(first, "200") {
			t.Fatalf("mid-pull client: %q %v", first, err)
		}
		c.Close()
		if status, _, body := a.curl(t, "http://d/_ping"); status != 200 || body != "OK" {
			t.Fatalf("after a dropped pull: _ping %d %q", status, body)
		}

		pull, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{})
		if err != nil {
			t.Fatalf("ImagePull: %v", err)
		}
		var statuses []string
		for m, err := range pull.JSONMessages(ctx) {
			if err != nil {
				t.Fatalf("ImagePull stream: %v", err)
			}
			statuses = append(statuses, m.Status)
		}
		if len(statuses) < 3 || statuses[0] != "Pulling from "+strings.TrimPrefix(strings.TrimSuffix(ref, ":v1"), reg.Host+"/") ||
			statuses[len(statuses)-1] != "Status: Downloaded newer image for "+ref {
			t.Errorf("ImagePull messages: %q", statuses)
		}
		// a failed pull is an error for the client, whether before the stream or in it
		bad, err := cli.ImagePull(ctx, reg.Host+"/"+Repo(t)+":nope", client.ImagePullOptions{})
		if err == nil {
			err = bad.Wait(ctx)
		}
		if err == nil {
			t.Errorf("ImagePull of a missing repository succeeded")
		}

		list, err := cli.ImageList(ctx, client.ImageListOptions{})
		if err != nil {
			t.Fatalf("ImageList: %v", err)
		}
		var tags []string
		for _, i := range list.Items {
			tags = append(tags, i.RepoTags...)
			if i.ID == img.ID().String() && (i.Size <= 0 || i.Created != img.Config.Created.Unix()) {
				t.Errorf("ImageList entry: %+v", i)
			}
		}
		if strings.Join(tags, ",") != ref {
			t.Errorf("ImageList tags %q, want only %s (the dropped pull of %s stopped with its client)", tags, ref, bigRef)
		}
		// the dropped pull can be done again to the end
		if err := pullToEnd(ctx, cli, bigRef); err != nil {
			t.Errorf("pull after the dropped one: %v", err)
		}
		if out := a.mustDocker(t, "image", "inspect", "--format", "{{.Id}}", bigRef); out != big.ID().String() {
			t.Errorf("inspect %s: %q", bigRef, out)
		}
	})
}

func pullToEnd(ctx context.Context, cli *client.Client, ref string) error {
	r, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	return r.Wait(ctx)
}

// TestAPIImagesAuth: X-Registry-Auth carries a pull's and a push's
// credentials; without it the login stored by POST /auth (docker login)
// applies.
func TestAPIImagesAuth(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := StartRegistry(t, RegistryOptions{TLS: true, Auth: true})
		s.TrustCA(reg)
		repo := Repo(t)
		PushImage(t, reg, repo, "v1", img)
		a := startService(t, s, "--time", "0")
		auth := func(user, password string) string {
			b, _ := json.Marshal(map[string]string{"username": user, "password": password, "serveraddress": reg.Host})
			return "X-Registry-Auth: " + base64.URLEncoding.EncodeToString(b)
		}
		pull := "http://d/images/create?fromImage=" + url.QueryEscape(reg.Host+"/"+repo) + "&tag=v1"
		// dockerd answers a registry's refusal with 500, never 401 (on which
		// the docker CLI would prompt for a login)
		if status, _, body := a.curl(t, "-X", "POST", pull); status != 500 || !strings.Contains(body, `"message":`) || !strings.Contains(body, "access denied") {
			t.Errorf("pull without credentials: %d %s, want 500", status, body)
		}
		if status, _, body := a.curl(t, "-X", "POST", "-H", auth(reg.User, "wrong"), pull); status != 500 {
			t.Errorf("pull with a wrong password: %d %s, want 500", status, body)
		}
		status, _, body := a.curl(t, "--raw", "-X", "POST", "-H", auth(reg.User, reg.Password), pull)
		if status != 200 || !strings.HasSuffix(strings.TrimSpace(body), `{"status":"Status: Downloaded newer image for `+reg.Host+"/"+repo+`:v1"}`) {
			t.Errorf("pull with X-Registry-Auth: %d %s", status, body)
		}
		a.mustDocker(t, "tag", reg.Host+"/"+repo+":v1", reg.Host+"/"+repo+"-pushed:v1")
		push := "http://d/images/" + reg.Host + "/" + repo + "-pushed/push?tag=v1"
		status, _, body = a.curl(t, "--raw", "-X", "POST", "-H", auth(reg.User, reg.Password), push)
		m := GetManifest(t, reg, repo+"-pushed", "v1")
		if status != 200 || !strings.Contains(body, `"status":"v1: digest: `+m.Digest.String()) || !strings.Contains(body, `"aux":{"Tag":"v1","Digest":"`+m.Digest.String()) {
			t.Errorf("push with X-Registry-Auth: %d %s", status, body)
		}

		// docker login stores the credentials; the CLI's own config is
		// fresh each call, so the pull has no header and uses them.
		a.mustDocker(t, "rmi", reg.Host+"/"+repo+":v1")
		if out, err := a.docker(t, "pull", reg.Host+"/"+repo+":v1"); err == nil || !strings.Contains(out, "access denied") || strings.Contains(out, "Username") {
			t.Errorf("docker pull before login: %v %q, want Docker's failure (not a login prompt)", err, out)
		}
		if out := a.mustDocker(t, "login", "-u", reg.User, "-p", reg.Password, reg.Host); !strings.Contains(out, "Login Succeeded") {
			t.Errorf("docker login: %s", out)
		}
		if out := a.mustDocker(t, "pull", reg.Host+"/"+repo+":v1"); !strings.Contains(out, "Status: Downloaded newer image") {
			t.Errorf("docker pull after login: %s", out)
		}
	})
}

// runOutput runs image's command detached through the shim, waits for it
// and returns its log; the container is removed.
func (a *apiService) runOutput(t *testing.T, image string) string {
	t.Helper()
	id := a.mustDocker(t, "run", "-d", image)
	a.mustDocker(t, "wait", id)
	out := a.mustDocker(t, "logs", id)
	a.mustDocker(t, "rm", id)
	return out
}
