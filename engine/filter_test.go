package engine

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/runtime"
)

func TestParseFilters(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Filters
		bad  bool
	}{
		{args: nil, want: Filters{}},
		{args: []string{"name=web", "name=db", "label=a=b"}, want: Filters{"name": {"web", "db"}, "label": {"a=b"}}},
		// The docker CLI lower-cases the key and trims both sides.
		{args: []string{" Name = web "}, want: Filters{"name": {"web"}}},
		{args: []string{"name=web", "name=web"}, want: Filters{"name": {"web"}}},
		{args: []string{"name="}, want: Filters{"name": {""}}},
		{args: []string{""}, want: Filters{}},
		{args: []string{"label!=a"}, want: Filters{"label!": {"a"}}},
		{args: []string{"web"}, bad: true},
		{args: []string{"=web"}, bad: true},
	} {
		got, err := ParseFilters(tc.args)
		if tc.bad {
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("ParseFilters(%q): want invalid argument, got %v", tc.args, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFilters(%q) = %v, %v; want %v", tc.args, got, err, tc.want)
		}
	}
}

func TestUnknownFilterKey(t *testing.T) {
	for _, tc := range []struct {
		what string
		f    Filters
		err  string
	}{
		{"ps", Filters{"colour": {"x"}}, `unknown filter "colour" for containers: use one of ancestor, before, exited, expose, health, id, is-task, isolation, label, label!, name, network, publish, since, status, volume`},
		{"images", Filters{"name": {"x"}}, `unknown filter "name" for images: use one of before, dangling, label, label!, reference, since, until`},
		{"container prune", Filters{"status": {"exited"}}, `unknown filter "status" for container prune: use one of label, label!, until`},
		{"image prune", Filters{"reference": {"x"}}, `unknown filter "reference" for image prune: use one of dangling, label, label!, until`},
	} {
		var err error
		switch tc.what {
		case "ps":
			_, err = (&Engine{}).containerFilterSpec().compile(tc.f)
		case "container prune":
			_, err = containerPruneSpec(time.Now()).compile(tc.f)
		case "images":
			_, err = compileImageFilter(nil, tc.f, false)
		case "image prune":
			_, err = compileImageFilter(nil, tc.f, true)
		}
		if !errdefs.IsInvalidArgument(err) || err.Error() != tc.err+": invalid argument" {
			t.Errorf("%s %v:\n got %v\nwant %s", tc.what, tc.f, err, tc.err)
		}
	}
}

func testContainers() []*Container {
	now := time.Now()
	started := func(code int) runtime.State {
		return runtime.State{Status: runtime.StatusExited, ExitCode: code, StartedAt: now, FinishedAt: now}
	}
	return []*Container{
		{ID: "aaa111", Name: "web", Created: now.Add(-5 * time.Minute), State: runtime.State{Status: runtime.StatusRunning, StartedAt: now},
			Config: ContainerConfig{Labels: map[string]string{"color": "blue", "tier": "front"}, NetworkMode: "none",
				Spec: runtime.SpecOptions{Mounts: []runtime.Mount{{Type: "bind", Source: "/srv/data", Destination: "/data"}}}}},
		{ID: "aaa222", Name: "webapp", Created: now.Add(-4 * time.Minute), State: started(0),
			Config: ContainerConfig{Labels: map[string]string{"color": "red"}, NetworkMode: "host"}},
		{ID: "bbb333", Name: "myweb", Created: now.Add(-3 * time.Minute), State: started(3),
			Config: ContainerConfig{Labels: map[string]string{"tier": "front"}, NetworkMode: "none",
				Spec: runtime.SpecOptions{Mounts: []runtime.Mount{{Type: "tmpfs", Destination: "/scratch"}}}}},
		{ID: "ccc444", Name: "db", Created: now.Add(-2 * time.Minute), State: runtime.State{Status: runtime.StatusCreated},
			Config: ContainerConfig{NetworkMode: "ns:/run/netns/x", Network: ContainerNetwork{
				Ports:   []PortBinding{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
				Exposed: []Port{{80, "tcp"}, {8000, "tcp"}, {53, "udp"}}}}},
		{ID: "ddd555", Name: "cache", Created: now.Add(-1 * time.Minute), State: runtime.State{Status: runtime.StatusPaused, StartedAt: now},
			Config: ContainerConfig{Labels: map[string]string{"color": "blue"}, NetworkMode: "none"}},
	}
}

// TestContainerFilters follows Docker's documented ps filters (docker/cli
// docs/reference/commandline/container_ls.md) and moby's daemon/list.go.
func TestContainerFilters(t *testing.T) {
	all := []string{"web", "webapp", "myweb", "db", "cache"}
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{nil, all},
		// name: a substring, or a regular expression; Docker's names start with "/".
		{[]string{"name=web"}, []string{"web", "webapp", "myweb"}},
		{[]string{"name=^web$"}, []string{"web"}},
		{[]string{"name=^/web"}, []string{"web", "webapp"}},
		{[]string{"name=/db"}, []string{"db"}},
		{[]string{"name=db", "name=cache"}, []string{"db", "cache"}},
		{[]string{"name=(bad"}, nil},
		// id: a prefix.
		{[]string{"id=aaa"}, []string{"web", "webapp"}},
		{[]string{"id=aaa", "id=ccc"}, []string{"web", "webapp", "db"}},
		{[]string{"id=111"}, nil},
		// label: every label= must match (AND), unlike other keys.
		{[]string{"label=color"}, []string{"web", "webapp", "cache"}},
		{[]string{"label=color=blue"}, []string{"web", "cache"}},
		{[]string{"label=color=blue", "label=tier"}, []string{"web"}},
		{[]string{"label=color", "label=tier=front"}, []string{"web"}},
		{[]string{"label!=color"}, []string{"myweb", "db"}},
		{[]string{"label!=color=blue"}, []string{"webapp", "myweb", "db"}},
		{[]string{"label=color!=blue"}, []string{"webapp", "myweb", "db"}},
		{[]string{"label=color", "label!=tier"}, []string{"webapp", "cache"}},
		// status: one of them (OR); AND with other keys.
		{[]string{"status=exited"}, []string{"webapp", "myweb"}},
		{[]string{"status=exited", "status=created"}, []string{"webapp", "myweb", "db"}},
		{[]string{"status=paused"}, []string{"cache"}},
		{[]string{"status=running", "name=web"}, []string{"web"}},
		{[]string{"status=dead"}, nil},
		// exited: codes of containers that ran and stopped.
		{[]string{"exited=0"}, []string{"webapp"}},
		{[]string{"exited=0", "exited=3"}, []string{"webapp", "myweb"}},
		{[]string{"exited=3", "label=color"}, nil},
		// networks: a mode's name; a joined namespace is none.
		{[]string{"network=none"}, []string{"web", "myweb", "cache"}},
		{[]string{"network=host", "network=none"}, []string{"web", "webapp", "myweb", "cache"}},
		{[]string{"network=foo"}, nil},
		{[]string{"network=ns:/run/netns/x"}, nil},
		// volume: a mount's destination or source.
		{[]string{"volume=/data"}, []string{"web"}},
		{[]string{"volume=/srv/data"}, []string{"web"}},
		{[]string{"volume=/scratch", "volume=/data"}, []string{"web", "myweb"}},
		{[]string{"volume=myvol"}, nil},
		// publish: container ports with a binding; expose: exposed ones.
		{[]string{"publish=80"}, []string{"db"}},
		{[]string{"publish=80/udp"}, nil},
		{[]string{"publish=8000"}, nil},
		{[]string{"expose=8000-8080/tcp"}, []string{"db"}},
		{[]string{"expose=53/udp"}, []string{"db"}},
		{[]string{"expose=53"}, nil},
		// Features without containers yet: none has a healthcheck or a task.
		{[]string{"health=none"}, all},
		{[]string{"health=healthy"}, nil},
		{[]string{"health=healthy", "health=none"}, all},
		{[]string{"is-task=false"}, all},
		{[]string{"is-task=true"}, nil},
		// isolation is Windows only: docker on Linux ignores it.
		{[]string{"isolation=hyperv"}, all},
	} {
		match, err := (&Engine{}).containerFilterSpec().compile(mustParse(t, tc.filters))
		if err != nil {
			t.Errorf("%q: %v", tc.filters, err)
			continue
		}
		var got []string
		for _, c := range testContainers() {
			if match(c) {
				got = append(got, c.Name)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ps %s: got %q, want %q", strings.Join(tc.filters, " "), got, tc.want)
		}
	}
}

func TestContainerFilterBadValues(t *testing.T) {
	for _, f := range []string{
		"status=up", "status=Running", "exited=zero", "health=sick", "is-task=maybe",
		"publish=8080:80", "publish=0", "publish=80/icmp", "expose=90-80", "expose=http",
		"label=", "label!==x",
	} {
		_, err := (&Engine{}).containerFilterSpec().compile(mustParse(t, []string{f}))
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), f) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want one line naming it, invalid argument; got %v", f, err)
		}
	}
	// Docker's booleans: true and false at once is an error, not "either".
	if _, err := (&Engine{}).containerFilterSpec().compile(mustParse(t, []string{"is-task=true", "is-task=0"})); !errdefs.IsInvalidArgument(err) {
		t.Errorf("is-task=true and is-task=0: got %v", err)
	}
}

func TestContainerPruneFilters(t *testing.T) {
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{[]string{"until=150s"}, []string{"web", "webapp", "myweb"}},
		{[]string{"until=150s", "until=270s"}, []string{"web"}},
		{[]string{"label=color", "until=150s"}, []string{"web", "webapp"}},
		{[]string{"label!=color"}, []string{"myweb", "db"}},
	} {
		match, err := containerPruneSpec(time.Now()).compile(mustParse(t, tc.filters))
		if err != nil {
			t.Fatalf("%q: %v", tc.filters, err)
		}
		var got []string
		for _, c := range testContainers() {
			if match(c) {
				got = append(got, c.Name)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("container prune %s: got %q, want %q", strings.Join(tc.filters, " "), got, tc.want)
		}
	}
	if _, err := containerPruneSpec(time.Now()).compile(Filters{"until": {"soon"}}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("until=soon: got %v", err)
	}
}

// TestContainerStatesAreDockers: every status ps shows can be selected
// with status=.
func TestContainerStatesAreDockers(t *testing.T) {
	for _, s := range []runtime.Status{runtime.StatusCreated, runtime.StatusRunning, runtime.StatusPaused, runtime.StatusExited} {
		if !slices.Contains(containerStates, string(s)) {
			t.Errorf("status %q is not one status= takes", s)
		}
	}
}

type testImage struct {
	img    imagestore.Image
	labels map[string]string
}

func testImages() []testImage {
	now := time.Now()
	return []testImage{
		{img: imagestore.Image{ID: "i1", Names: []string{"docker.io/library/busybox:latest", "docker.io/library/fa:1"}, Created: now.Add(-3 * time.Hour)},
			labels: map[string]string{"version": "1.0", "vendor": "acme"}},
		{img: imagestore.Image{ID: "i2", Names: []string{"docker.io/library/busybox:glibc", "docker.io/myorg/busybox:uclibc"}, Created: now.Add(-2 * time.Hour)},
			labels: map[string]string{"version": "2.0"}},
		{img: imagestore.Image{ID: "i3", Names: []string{"127.0.0.1:5000/tools/bb:2"}, Created: now.Add(-1 * time.Hour)}},
		{img: imagestore.Image{ID: "i4", Created: now.Add(-30 * time.Minute)}, labels: map[string]string{"vendor": "acme"}},
	}
}

// TestImageFilters follows Docker's documented images filters (docker/cli
// docs/reference/commandline/image_ls.md) and moby's
// daemon/containerd/image_list.go. Results are "ID:names".
func TestImageFilters(t *testing.T) {
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{nil, []string{"i1:busybox:latest,fa:1", "i2:busybox:glibc,myorg/busybox:uclibc", "i3:127.0.0.1:5000/tools/bb:2", "i4:"}},
		// reference shows only the names that match.
		{[]string{"reference=fa"}, []string{"i1:fa:1"}},
		{[]string{"reference=busybox"}, []string{"i1:busybox:latest", "i2:busybox:glibc"}},
		{[]string{"reference=busybox:latest"}, []string{"i1:busybox:latest"}},
		{[]string{"reference=busy*"}, []string{"i1:busybox:latest", "i2:busybox:glibc"}},
		{[]string{"reference=busy*:*libc"}, []string{"i2:busybox:glibc"}},
		{[]string{"reference=*/busybox:*"}, []string{"i2:myorg/busybox:uclibc"}},
		{[]string{"reference=docker.io/library/busybox"}, []string{"i1:busybox:latest", "i2:busybox:glibc"}},
		{[]string{"reference=docker.io/library/busybox:latest"}, []string{"i1:busybox:latest"}},
		{[]string{"reference=127.0.0.1:5000/tools/*"}, []string{"i3:127.0.0.1:5000/tools/bb:2"}},
		{[]string{"reference=alpine"}, nil},
		// Two references: either (OR).
		{[]string{"reference=busy*:glibc", "reference=fa"}, []string{"i1:fa:1", "i2:busybox:glibc"}},
		{[]string{"reference=fa", "reference=*/busybox:*"}, []string{"i1:fa:1", "i2:myorg/busybox:uclibc"}},
		// Different keys: both (AND).
		{[]string{"reference=busy*", "label=version=2.0"}, []string{"i2:busybox:glibc"}},
		{[]string{"dangling=true"}, []string{"i4:"}},
		{[]string{"dangling=false"}, []string{"i1:busybox:latest,fa:1", "i2:busybox:glibc,myorg/busybox:uclibc", "i3:127.0.0.1:5000/tools/bb:2"}},
		{[]string{"dangling=1", "reference=*"}, nil},
		// label: AND, with label! and k!=v.
		{[]string{"label=vendor"}, []string{"i1:busybox:latest,fa:1", "i4:"}},
		{[]string{"label=vendor", "label=version"}, []string{"i1:busybox:latest,fa:1"}},
		{[]string{"label=version=1.0", "label=version=2.0"}, nil},
		{[]string{"label!=vendor"}, []string{"i2:busybox:glibc,myorg/busybox:uclibc", "i3:127.0.0.1:5000/tools/bb:2"}},
		{[]string{"label=version!=1.0"}, []string{"i2:busybox:glibc,myorg/busybox:uclibc", "i3:127.0.0.1:5000/tools/bb:2", "i4:"}},
		{[]string{"label!=version=1.0", "label=vendor"}, []string{"i4:"}},
		// until: created before; two bounds both hold.
		{[]string{"until=90m"}, []string{"i1:busybox:latest,fa:1", "i2:busybox:glibc,myorg/busybox:uclibc"}},
		{[]string{"until=90m", "until=150m"}, []string{"i1:busybox:latest,fa:1"}},
	} {
		f, err := compileImageFilter(nil, mustParse(t, tc.filters), false)
		if err != nil {
			t.Errorf("%q: %v", tc.filters, err)
			continue
		}
		if got := applyImages(f); !slices.Equal(got, tc.want) {
			t.Errorf("images %s:\n got %q\nwant %q", strings.Join(tc.filters, " "), got, tc.want)
		}
	}
}

func TestImagePruneFilters(t *testing.T) {
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		// dangling is a mode for prune: false is every image.
		{[]string{"dangling=true"}, []string{"i4:"}},
		{[]string{"dangling=false"}, []string{"i1:busybox:latest,fa:1", "i2:busybox:glibc,myorg/busybox:uclibc", "i3:127.0.0.1:5000/tools/bb:2", "i4:"}},
		{[]string{"dangling=false", "label=vendor"}, []string{"i1:busybox:latest,fa:1", "i4:"}},
		{[]string{"dangling=false", "until=150m"}, []string{"i1:busybox:latest,fa:1"}},
	} {
		f, err := compileImageFilter(nil, mustParse(t, tc.filters), true)
		if err != nil {
			t.Fatalf("%q: %v", tc.filters, err)
		}
		if got := applyImages(f); !slices.Equal(got, tc.want) {
			t.Errorf("image prune %s:\n got %q\nwant %q", strings.Join(tc.filters, " "), got, tc.want)
		}
	}
}

func TestImageFilterBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"dangling=yes"}, {"dangling=true", "dangling=false"}, {"reference=busy[box"}, {"until=tomorrow"}, {"label="},
	} {
		_, err := compileImageFilter(nil, mustParse(t, args), false)
		if !errdefs.IsInvalidArgument(err) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: want one line, invalid argument; got %v", args, err)
		}
	}
}

func applyImages(f imageFilter) []string {
	var out []string
	for _, ti := range testImages() {
		if img, ok := f.apply(ti.img, func() map[string]string { return ti.labels }); ok {
			var names []string
			for _, n := range img.Names {
				names = append(names, imagestore.FamiliarName(n))
			}
			out = append(out, img.ID+":"+strings.Join(names, ","))
		}
	}
	return out
}

func mustParse(t *testing.T, args []string) Filters {
	t.Helper()
	f, err := ParseFilters(args)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseTimestamp(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"10m":                        now.Add(-10 * time.Minute),
		"1h30m":                      now.Add(-90 * time.Minute),
		"1700000000":                 time.Unix(1700000000, 0),
		"1700000000.25":              time.Unix(1700000000, 250000000),
		"2024-01-02T03:04:05Z":       time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"2024-01-02T03:04:05+02:00":  time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC),
		"2024-01-02T03:04:05.5Z":     time.Date(2024, 1, 2, 3, 4, 5, 500000000, time.UTC),
		"2024-01-02T03:04:05":        time.Date(2024, 1, 2, 3, 4, 5, 0, time.Local),
		"2024-01-02T03:04":           time.Date(2024, 1, 2, 3, 4, 0, 0, time.Local),
		"2024-01-02":                 time.Date(2024, 1, 2, 0, 0, 0, 0, time.Local),
		"2024-01-02T03:04:05.000001": time.Date(2024, 1, 2, 3, 4, 5, 1000, time.Local),
	} {
		got, err := ParseTimestamp(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "10 minutes", "2024-13-01", "17e8"} {
		if _, err := ParseTimestamp(in, now); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParseTimestamp(%q): want invalid argument, got %v", in, err)
		}
	}
}
