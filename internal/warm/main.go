package main

import (
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-containerregistry/pkg/v1/layout"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/go-containerregistry/pkg/v1/tarball"
	_ "github.com/google/osv-scalibr"
	_ "github.com/google/osv-scalibr/extractor/filesystem/list"
	_ "github.com/google/osv-scalibr/semantic"
	_ "github.com/pandatix/go-cvss/31"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/bbolt"
)

func main() {}
