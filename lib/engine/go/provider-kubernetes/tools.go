//go:build tools

// Package tools pins terraform-provider-kubernetes so it can be built with
//
//	go build -trimpath -ldflags "-s -w" -o terraform-provider-kubernetes github.com/hashicorp/terraform-provider-kubernetes
package tools

import (
	_ "github.com/hashicorp/terraform-provider-kubernetes"
)
