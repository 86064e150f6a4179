//go:build tools

// Package tools pins the Kubernetes control plane so each part can be built reproducibly with
//
//	go build -trimpath -ldflags "-s -w" -o bin/ k8s.io/kubernetes/cmd/kube-apiserver ...
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
