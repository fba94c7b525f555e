// Package registry runs Debian's docker-registry (distribution 2.8) on
// 127.0.0.1 for tests and the benchmark, and talks to it over the
// distribution HTTP API with its own small client, so that tests can put
// images into a registry, and read them back, without skiff.
//
// Layout of Options.Dir after Start:
//
//	config.yml      the registry's configuration
//	registry.log    its stdout and stderr
//	storage/        filesystem storage
//	htpasswd        bcrypt credentials (Auth)
//	tls/server.crt  certificate for 127.0.0.1, ::1 and localhost (TLS)
//	tls/server.key
//	certs/ca.crt    the CA that signed it: pass certs/ as a cert dir (TLS)
package registry

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Bin is the registry binary (Debian package docker-registry).
var Bin = "/usr/bin/docker-registry"

// Options choose the flavour.
type Options struct {
	Dir  string // holds config, storage, certificates and the log; must exist
	TLS  bool   // serve HTTPS with a certificate signed by a generated CA
	Auth bool   // require basic auth (htpasswd, bcrypt) with a generated user
}

// Registry is a running registry.
type Registry struct {
	Host     string // 127.0.0.1:PORT, as written in image references
	URL      string // http://Host or https://Host
	User     string // with Auth
	Password string // with Auth
	CAFile   string // with TLS: PEM of the CA that signed the server certificate
	CertDir  string // with TLS: a directory holding only ca.crt (--cert-dir, certs.d/<Host>)
	Dir      string
	LogFile  string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	hc   *http.Client
}

// Start runs a registry and returns once GET /v2/ answers. Close stops it.
func Start(ctx context.Context, o Options) (*Registry, error) {
	if _, err := os.Stat(Bin); err != nil {
		return nil, fmt.Errorf("registry: %w (install the Debian package docker-registry, or run make deps)", err)
	}
	r := &Registry{Dir: o.Dir, LogFile: filepath.Join(o.Dir, "registry.log")}
	if o.TLS {
		if err := r.writeCerts(); err != nil {
			return nil, err
		}
	}
	if o.Auth {
		if err := r.writeHtpasswd(); err != nil {
			return nil, err
		}
	}
	r.hc = r.httpClient()
	var err error
	for range 3 { // the free port we picked may be taken before the registry binds it
		if err = r.start(ctx, o); err == nil || ctx.Err() != nil {
			return r, err
		}
	}
	return nil, err
}

func (r *Registry) start(ctx context.Context, o Options) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	r.URL = "http://" + r.Host
	if o.TLS {
		r.URL = "https://" + r.Host
	}
	cfg := filepath.Join(r.Dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(r.config(o)), 0o644); err != nil {
		return err
	}
	log, err := os.OpenFile(r.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	r.cmd = exec.Command(Bin, "serve", cfg)
	r.cmd.Stdout, r.cmd.Stderr = log, log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	r.done = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.done) }()
	return r.waitReady(ctx)
}

func (r *Registry) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/v2/", nil)
		if resp, err := r.hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-r.done:
			return fmt.Errorf("registry on %s exited before answering: %s", r.Host, r.logTail())
		case <-ctx.Done():
			r.Close()
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.Close()
			return fmt.Errorf("registry on %s did not answer GET /v2/ within 15s: %s", r.Host, r.logTail())
		}
	}
}

// Close stops the registry: SIGTERM, then SIGKILL after 5 seconds.
func (r *Registry) Close() error {
	if r == nil || r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
	return nil
}

func (r *Registry) config(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: %s
  headers:
    X-Content-Type-Options: [nosniff]
`, filepath.Join(r.Dir, "storage"), r.Host, randomHex(16))
	if o.TLS {
		fmt.Fprintf(&b, "  tls:\n    certificate: %s\n    key: %s\n", filepath.Join(r.Dir, "tls", "server.crt"), filepath.Join(r.Dir, "tls", "server.key"))
	}
	if o.Auth {
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: skiff-test\n    path: %s\n", filepath.Join(r.Dir, "htpasswd"))
	}
	return b.String()
}

func (r *Registry) writeHtpasswd() error {
	r.User, r.Password = "skiff-"+randomHex(4), randomHex(12)
	out, err := exec.Command("htpasswd", "-Bbn", r.User, r.Password).Output()
	if err != nil {
		return fmt.Errorf("registry: htpasswd -Bbn (Debian package apache2-utils): %w", err)
	}
	return os.WriteFile(filepath.Join(r.Dir, "htpasswd"), out, 0o644)
}

func (r *Registry) httpClient() *http.Client {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}
	if r.CAFile != "" {
		pool := x509.NewCertPool()
		if pem, err := os.ReadFile(r.CAFile); err == nil {
			pool.AppendCertsFromPEM(pem)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

func (r *Registry) logTail() string {
	b, _ := os.ReadFile(r.LogFile)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if len(b) == 0 {
		return "(no output in " + r.LogFile + ")"
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// StatusError is an unexpected HTTP answer from the registry.
type StatusError struct {
	Method, URL string
	Code        int
	Body        string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Code, strings.TrimSpace(e.Body))
}

// IsStatus reports whether err is a StatusError with this code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}
