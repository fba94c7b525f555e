package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"
	"text/template"
	"time"

	units "github.com/docker/go-units"
	"github.com/sirupsen/logrus"
)

// table describes one listing: its default format and the column header
// for each field a template may name (Docker's names).
type table struct {
	format    string // default, "table {{.A}}\t{{.B}}"
	headers   map[string]string
	noHeading bool // --noheading: a table template prints no header row
}

var templateFuncs = template.FuncMap{
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"split":    strings.Split,
	"truncate": func(s string, n int) string { return truncate(s, n) },
}

var fieldRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`{{\s*\.(\w+)[^}]*}}`) })

// render prints rows with the default table, a Go template ("table" prefix
// adds headers), or "json" (one object per line, as docker does).
func render(w io.Writer, format string, t table, rows []any) error {
	// One write at the end, not one per cell (a thousand containers made
	// tens of thousands of write calls).
	bw := bufio.NewWriter(w)
	err := renderTo(bw, format, t, rows)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

func renderTo(w io.Writer, format string, t table, rows []any) error {
	if format == "" {
		format = t.format
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	isTable := strings.HasPrefix(format, "table")
	if isTable {
		format = strings.TrimSpace(strings.TrimPrefix(format, "table"))
	}
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format + "\n")
	if err != nil {
		return fmt.Errorf("invalid --format template: %v", err)
	}
	out := w
	var tw *tabwriter.Writer
	if isTable {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if !t.noHeading {
			fmt.Fprintln(tw, headerLine(format, t.headers))
		}
	}
	for _, r := range rows {
		if err := tmpl.Execute(out, r); err != nil {
			return fmt.Errorf("invalid --format template: %v", err)
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// headerLine turns "{{.ID}}\t{{.Repository}}" into "IMAGE ID\tREPOSITORY".
func headerLine(format string, headers map[string]string) string {
	return fieldRE().ReplaceAllStringFunc(format, func(m string) string {
		name := fieldRE().FindStringSubmatch(m)[1]
		if h, ok := headers[name]; ok {
			return h
		}
		return strings.ToUpper(name)
	})
}

// printJSON prints v as indented JSON, as inspect does.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// humanSize is Docker's size format: 3 significant digits, SI units.
func humanSize(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

// ago is Docker's "CREATED" column.
func ago(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return units.HumanDuration(time.Since(t)) + " ago"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func shortID(id string) string { return truncate(strings.TrimPrefix(id, "sha256:"), 12) }

func setLibraryLogLevel(level string) error {
	l, err := logrus.ParseLevel(level)
	if err != nil {
		return err
	}
	logrus.SetLevel(l)
	return nil
}
