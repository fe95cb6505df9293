//go:build !unix

package testimage

import "io/fs"

// statOf reports every file as singly linked where inodes are not exposed.
func statOf(fs.FileInfo) fileStat { return fileStat{nlink: 1} }
