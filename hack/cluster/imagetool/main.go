// Command imagetool packs a local file into a one-layer image tarball for
// `ctr images import` — the harness uses it for the pause (sandbox) image.
//
//	imagetool -src bin/pause -dst /pause -tag registry.k8s.io/pause:3.10 -o pause.tar
package main

import (
	"flag"
	"log"
	"os"

	"github.com/runlens/runlens/internal/testing/testimage"
)

func main() {
	src := flag.String("src", "", "local file to pack")
	dst := flag.String("dst", "/pause", "path inside the image; also the entrypoint")
	tag := flag.String("tag", "registry.k8s.io/pause:3.10", "image name")
	out := flag.String("o", "", "output tarball")
	flag.Parse()
	if *src == "" || *out == "" {
		log.Fatal("imagetool: -src and -o are required")
	}
	data, err := os.ReadFile(*src)
	if err != nil {
		log.Fatal(err)
	}
	img, err := testimage.FromFiles([]testimage.File{{Path: *dst, Data: data}}, testimage.Config{Entrypoint: []string{*dst}})
	if err != nil {
		log.Fatal(err)
	}
	if err := testimage.WriteTarball(img, *tag, *out); err != nil {
		log.Fatal(err)
	}
}
