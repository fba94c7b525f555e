// Command mkimage writes a fixture image (see package test/fixture) to an
// archive, with no network: the busybox image for `make demo`, or a
// multi-layer image of generated files for the benchmark.
//
//	go run ./test/cmd/mkimage -o bin/busybox.tar -tag busybox:latest
//	go run ./test/cmd/mkimage -o /tmp/big.tar -kind layers -size 250M -layers 3
//
// It prints the image ID, manifest digest and layer diffIDs on stdout (on
// stderr with -o -). For a docker-archive the manifest digest is that of
// the OCI manifest mkimage would push; compare image IDs across tools.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/skiff-engine/skiff/test/fixture"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("o", "", "output file, - for stdout (a directory for -format oci)")
	format := flag.String("format", "docker-archive", "docker-archive, oci-archive or oci (a layout directory)")
	tag := flag.String("tag", "", "name in the archive (default busybox:latest, or layers:latest for -kind layers)")
	kind := flag.String("kind", "busybox", "busybox, or layers (generated files stacked on busybox)")
	size := flag.String("size", "1M", "-kind layers: total size of the generated files (K, M, G suffixes)")
	layers := flag.Int("layers", 3, "-kind layers: number of generated layers (at least 2)")
	base := flag.Bool("busybox", true, "-kind layers: stack the layers on the busybox layer")
	seed := flag.Uint64("seed", 0, "-kind layers: varies the generated content")
	gz := flag.Bool("gzip", false, "gzip the layers (docker-archive layers are uncompressed by default, OCI ones gzip)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		return fmt.Errorf("-o is required")
	}
	gzipSet := false
	flag.Visit(func(f *flag.Flag) { gzipSet = gzipSet || f.Name == "gzip" })
	compression := fixture.Gzip
	if (gzipSet && !*gz) || (!gzipSet && *format == string(fixture.DockerArchive)) {
		compression = fixture.Uncompressed
	}

	var img *fixture.Image
	var err error
	switch *kind {
	case "busybox":
		img, err = fixture.Busybox()
	case "layers":
		var n int64
		if n, err = parseSize(*size); err != nil {
			return err
		}
		img, err = fixture.Layered(fixture.LayersOptions{Layers: *layers, Size: n, Busybox: *base, Seed: *seed,
			Uncompressed: compression == fixture.Uncompressed})
	default:
		return fmt.Errorf("-kind %q: want busybox or layers", *kind)
	}
	if err != nil {
		return err
	}
	if *tag == "" {
		*tag = *kind + ":latest"
	}
	if img, err = img.Encode(fixture.OCI, compression); err != nil {
		return err
	}
	summary := os.Stdout
	if *out == "-" {
		*out, summary = "/dev/stdout", os.Stderr
	}
	if err := fixture.WriteFile(*out, fixture.ArchiveFormat(*format), fixture.Tagged{Image: img, Tags: []string{*tag}}); err != nil {
		return err
	}
	fmt.Fprintf(summary, "%s %s\nid %s\nmanifest %s\n", *format, *out, img.ID(), img.Manifest.Digest)
	for _, d := range img.DiffIDs() {
		fmt.Fprintf(summary, "layer %s\n", d)
	}
	return nil
}

// parseSize reads 250M, 1G, 512K or plain bytes (powers of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	if i := strings.IndexAny(strings.ToUpper(s), "KMG"); i >= 0 && i == len(s)-1 {
		mult = map[byte]int64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[strings.ToUpper(s)[i]]
		s = s[:i]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional K, M or G suffix", s)
	}
	return n * mult, nil
}
