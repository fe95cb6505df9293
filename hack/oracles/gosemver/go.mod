module github.com/runlens/runlens/hack/oracles/gosemver

go 1.26.8

require golang.org/x/mod v0.39.0
