//go:build !skiff_local

package imagestore

import (
	"bytes"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/types"
)

// events is a pull of one layer: new, read halfway, done; and a layer
// already there.
func events() []types.ProgressProperties {
	layer := types.BlobInfo{Digest: digest.Digest("sha256:" + strings.Repeat("a", 64)), Size: 100}
	skipped := types.BlobInfo{Digest: digest.Digest("sha256:" + strings.Repeat("b", 64)), Size: 7}
	config := types.BlobInfo{Digest: digest.Digest("sha256:" + strings.Repeat("c", 64)), MediaType: "application/vnd.oci.image.config.v1+json"}
	return []types.ProgressProperties{
		{Event: types.ProgressEventNewArtifact, Artifact: layer},
		{Event: types.ProgressEventNewArtifact, Artifact: config},
		{Event: types.ProgressEventRead, Artifact: layer, Offset: 50},
		{Event: types.ProgressEventSkipped, Artifact: skipped},
		{Event: types.ProgressEventDone, Artifact: layer, Offset: 100},
	}
}

func runProgress(p *progress) {
	ch := make(chan types.ProgressProperties, 10)
	for _, ev := range events() {
		ch <- ev
	}
	close(ch)
	done := make(chan struct{})
	p.run(ch, done)
	<-done
}

func TestProgressForms(t *testing.T) {
	a, b := strings.Repeat("a", 12), strings.Repeat("b", 12)
	for name, c := range map[string]struct {
		json, push bool
		want       string
	}{
		"text pull": {false, false, "latest: Pulling from library/x\n" + b + ": Already exists\n" + a + ": Pull complete\nDigest: sha256:d\n"},
		"text push": {false, true, "latest: Pulling from library/x\n" + b + ": Layer already exists\n" + a + ": Pushed\nDigest: sha256:d\n"},
		"JSON pull": {true, false, `{"status":"Pulling from library/x","id":"latest"}
{"status":"Pulling fs layer","progressDetail":{},"id":"` + a + `"}
{"status":"Downloading","progressDetail":{"current":50,"total":100},"id":"` + a + `"}
{"status":"Already exists","progressDetail":{},"id":"` + b + `"}
{"status":"Pull complete","progressDetail":{},"id":"` + a + `"}
{"status":"Digest: sha256:d"}
{"progressDetail":{},"aux":{"Tag":"latest"}}
`},
		"JSON push": {true, true, `{"status":"Pulling from library/x","id":"latest"}
{"status":"Preparing","progressDetail":{},"id":"` + a + `"}
{"status":"Pushing","progressDetail":{"current":50,"total":100},"id":"` + a + `"}
{"status":"Layer already exists","progressDetail":{},"id":"` + b + `"}
{"status":"Pushed","progressDetail":{},"id":"` + a + `"}
{"status":"Digest: sha256:d"}
{"progressDetail":{},"aux":{"Tag":"latest"}}
`},
	} {
		var buf bytes.Buffer
		p := newProgress(&buf, false, c.json, c.push)
		p.say("latest", "Pulling from library/x")
		runProgress(p)
		p.say("", "Digest: sha256:d")
		p.aux(map[string]string{"Tag": "latest"})
		if buf.String() != c.want {
			t.Errorf("%s:\n got %s\nwant %s", name, buf.String(), c.want)
		}
	}
	var nilProgress *progress = newProgress(nil, true, true, false)
	nilProgress.say("x", "y") // a nil progress reports nothing and does not panic
	nilProgress.aux(1)
}
