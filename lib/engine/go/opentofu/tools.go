//go:build tools

// Package tools pins the OpenTofu CLI so it can be built reproducibly with
//
//	go build -trimpath -ldflags "-s -w" -o tofu github.com/opentofu/opentofu/cmd/tofu
package tools

import (
	_ "github.com/opentofu/opentofu/cmd/tofu"
)
