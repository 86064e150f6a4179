//go:build tools

// Package tools pins kwok so it can be built reproducibly with
//
//	go build -trimpath -ldflags "-s -w" -o kwok sigs.k8s.io/kwok/cmd/kwok
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
