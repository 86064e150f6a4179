//go:build tools

// Package tools pins terraform-provider-aws so it can be built with
//
//	go build -trimpath -ldflags "-s -w" -o terraform-provider-aws github.com/hashicorp/terraform-provider-aws
package tools

import (
	_ "github.com/hashicorp/terraform-provider-aws"
)
