package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/skiff-engine/skiff/test/fixture"
)

// Client speaks the distribution API to one registry. It answers a 401 by
// following the WWW-Authenticate challenge once per request: Basic sends
// the credentials, Bearer fetches a token from the realm with them.
type Client struct {
	base           *url.URL
	hc             *http.Client
	user, password string
	authz          string // last Authorization header that worked
}

// Client uses the registry's own credentials (none without Auth).
func (r *Registry) Client() *Client { return r.ClientAs(r.User, r.Password) }

// ClientAs uses other credentials; empty user means anonymous.
func (r *Registry) ClientAs(user, password string) *Client {
	u, _ := url.Parse(r.URL)
	return &Client{base: u, hc: r.hc, user: user, password: password}
}

// Manifest is a manifest as the registry served it.
type Manifest struct {
	MediaType string
	Digest    digest.Digest // Docker-Content-Digest, checked against the body
	Data      []byte
}

// Push uploads the image's blobs (skipping those already there) and puts
// its manifest under tag, or under its digest when tag is "".
func (c *Client) Push(ctx context.Context, repo, tag string, img *fixture.Image) error {
	for _, b := range img.Blobs() {
		if err := c.PushBlob(ctx, repo, b); err != nil {
			return err
		}
	}
	ref := tag
	if ref == "" {
		ref = img.Manifest.Digest.String()
	}
	hdr := http.Header{"Content-Type": {img.Manifest.MediaType}}
	_, err := c.call(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, hdr, img.Manifest.Data, http.StatusCreated)
	return err
}

// PushBlob uploads one blob monolithically unless the repository has it.
func (c *Client) PushBlob(ctx context.Context, repo string, b fixture.Blob) error {
	blobPath := "/v2/" + repo + "/blobs/" + b.Digest.String()
	if _, err := c.call(ctx, http.MethodHead, blobPath, nil, nil, http.StatusOK); err == nil {
		return nil
	}
	resp, err := c.call(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, nil, http.StatusAccepted)
	if err != nil {
		return err
	}
	loc, err := c.base.Parse(resp.Header.Get("Location"))
	if err != nil {
		return fmt.Errorf("upload location %q: %w", resp.Header.Get("Location"), err)
	}
	q := loc.Query()
	q.Set("digest", b.Digest.String())
	loc.RawQuery = q.Encode()
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	_, err = c.call(ctx, http.MethodPut, loc.String(), hdr, b.Data, http.StatusCreated)
	return err
}

// Manifest fetches repo's manifest by tag or digest, accepting OCI and
// Docker manifests and indexes.
func (c *Client) Manifest(ctx context.Context, repo, ref string) (Manifest, error) {
	accept := strings.Join([]string{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, fixture.DockerManifest,
		"application/vnd.docker.distribution.manifest.list.v2+json"}, ", ")
	resp, err := c.call(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, http.Header{"Accept": {accept}}, nil, http.StatusOK)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{MediaType: resp.Header.Get("Content-Type"), Data: resp.body, Digest: digest.FromBytes(resp.body)}
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" && h != m.Digest.String() {
		return m, fmt.Errorf("manifest %s:%s: Docker-Content-Digest %s but the body hashes to %s", repo, ref, h, m.Digest)
	}
	return m, nil
}

// Blob fetches a blob and checks its digest.
func (c *Client) Blob(ctx context.Context, repo string, d digest.Digest) ([]byte, error) {
	resp, err := c.call(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+d.String(), nil, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	if got := digest.FromBytes(resp.body); got != d {
		return nil, fmt.Errorf("blob %s of %s hashes to %s", d, repo, got)
	}
	return resp.body, nil
}

// Ping is GET /v2/ (with authentication when the client has credentials).
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodGet, "/v2/", nil, nil, http.StatusOK)
	return err
}

type response struct {
	*http.Response
	body []byte
}

// call sends a request to path (relative to the registry or absolute) and
// reads the whole answer; any status but want is a *StatusError.
func (c *Client) call(ctx context.Context, method, path string, hdr http.Header, body []byte, want int) (*response, error) {
	u, err := c.base.Parse(path)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		if c.authz != "" {
			req.Header.Set("Authorization", c.authz)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 && c.user != "" {
			if c.authz, err = c.authorize(ctx, resp.Header.Get("WWW-Authenticate")); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode != want {
			return nil, &StatusError{Method: method, URL: u.String(), Code: resp.StatusCode, Body: string(data)}
		}
		return &response{resp, data}, nil
	}
}

// authorize answers a challenge with an Authorization header value.
func (c *Client) authorize(ctx context.Context, challenge string) (string, error) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.password))
	scheme, params, _ := strings.Cut(challenge, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		return basic, nil
	case "bearer":
		p := parseChallenge(params)
		u, err := url.Parse(p["realm"])
		if err != nil || p["realm"] == "" {
			return "", fmt.Errorf("bearer challenge %q: bad realm", challenge)
		}
		q := u.Query()
		for _, k := range []string{"service", "scope"} {
			if p[k] != "" {
				q.Set(k, p[k])
			}
		}
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", basic)
		resp, err := c.hc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var tok struct{ Token, AccessToken string }
		if resp.StatusCode != http.StatusOK {
			return "", &StatusError{Method: "GET", URL: u.String(), Code: resp.StatusCode}
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
			return "", fmt.Errorf("token from %s: %w", u, err)
		}
		if tok.Token == "" {
			tok.Token = tok.AccessToken
		}
		return "Bearer " + tok.Token, nil
	}
	return "", fmt.Errorf("unsupported authentication challenge %q", challenge)
}

// parseChallenge reads k="v",k2="v2" where quoted values may hold commas.
func parseChallenge(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				break
			}
			v, rest = rest[1:end+1], rest[end+2:]
		} else {
			v, rest, _ = strings.Cut(rest, ",")
		}
		out[strings.ToLower(strings.TrimSpace(k))] = v
		s = strings.TrimLeft(rest, ", ")
	}
	return out
}
