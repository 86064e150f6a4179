//go:build tools

// Package tools pins the etcd server so it can be built reproducibly with
//
//	go build -trimpath -ldflags "-s -w" -o etcd go.etcd.io/etcd/server/v3
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
