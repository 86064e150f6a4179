// The generator that trims terraform-provider-aws to the service packages a project uses
// (see main.go and ../../README.md). Standard library only.
module envstack.local/engine/aws-trim

go 1.26
