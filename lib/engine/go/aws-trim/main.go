// Command aws-trim rewrites a copy of terraform-provider-aws's source so that it compiles only the
// service packages a project needs, and records what the trimmed build serves.
//
//	aws-trim -src <writable copy of the provider module> -types <file> -report <json>
//
// -types lists the resource and data source types to serve, one per line ('#' starts a comment).
// The kept packages are a closure: the packages serving those types, then every package whose AWS
// API client the compiled code can ask for (conns.AWSClient's XClient methods resolve the client
// through the registered service package at run time, so a client without its package would fail
// there), until nothing is added. Only generated registration files change, nothing else:
//
//   - internal/provider/sdkv2/service_packages_gen.go: only the kept packages are registered;
//   - internal/conns/awsclient_gen.go: only the kept packages' client accessors (and their SDK imports);
//   - internal/service/<kept>/service_package_gen.go: only the listed types are registered (a type
//     name may be a resource and a data source: both are kept). The provider's schema, which the
//     engine asks for at every provider start, then holds what the stacks use and no more; the
//     linker drops the other types' code.
//
// The code of a registered type is untouched, so what it plans and applies is what the full
// provider's does. The report lists the kept packages and the types the build serves, so a deploy
// can refuse a stack that uses a type the build lacks before the engine starts.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

const module = "github.com/hashicorp/terraform-provider-aws"

var (
	typeNameRE   = regexp.MustCompile(`TypeName:\s*"([a-z0-9_]+)"`)
	clientCallRE = regexp.MustCompile(`\.([A-Z][A-Za-z0-9]*Client)\(`)
	constRE      = regexp.MustCompile(`^\s*([A-Z][A-Za-z0-9]*)\s*=\s*"([a-z0-9]+)"`)
)

type report struct {
	Packages []string `json:"packages"`
	Types    []string `json:"types"`
}

func main() {
	src := flag.String("src", "", "writable copy of the provider module")
	typesFile := flag.String("types", "", "file listing the resource and data source types to serve")
	reportFile := flag.String("report", "", "where to write the JSON report")
	flag.Parse()
	if *src == "" || *typesFile == "" || *reportFile == "" {
		fail("usage: aws-trim -src DIR -types FILE -report FILE")
	}
	wanted, err := readTypes(*typesFile)
	check(err)

	typeToPkg, pkgTypes, err := servedTypes(*src)
	check(err)
	kept := map[string]bool{}
	var missing []string
	for _, t := range wanted {
		if !strings.HasPrefix(t, "aws_") {
			continue // other providers' types (kubernetes_*, terraform_data)
		}
		pkg, ok := typeToPkg[t]
		if !ok {
			missing = append(missing, t)
			continue
		}
		kept[pkg] = true
	}
	if len(missing) > 0 {
		fail("no service package of this provider source serves: %s", strings.Join(missing, ", "))
	}

	accessors, err := clientAccessors(*src)
	check(err)
	for {
		check(writeServicePackages(*src, kept))
		used, err := referencedClients(*src)
		check(err)
		added := false
		for method := range used {
			if pkg, ok := accessors[method]; ok && !kept[pkg] {
				kept[pkg] = true
				added = true
			}
		}
		if !added {
			break
		}
	}
	check(writeAccessors(*src, kept, accessors))

	want := map[string]bool{}
	for _, t := range wanted {
		want[t] = true
	}
	r := report{}
	for pkg := range kept {
		r.Packages = append(r.Packages, pkg)
		check(writeRegistrations(*src, pkg, want))
		for _, t := range pkgTypes[pkg] {
			if want[t] {
				r.Types = append(r.Types, t)
			}
		}
	}
	sort.Strings(r.Packages)
	sort.Strings(r.Types)
	out, err := json.MarshalIndent(r, "", "  ")
	check(err)
	check(os.WriteFile(*reportFile, append(out, '\n'), 0o644))
	fmt.Printf("aws-trim: %d service packages kept (%s), serving %d types\n", len(r.Packages), strings.Join(r.Packages, " "), len(r.Types))
}

func readTypes(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var types []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.SplitN(sc.Text(), "#", 2)[0])
		if line != "" {
			types = append(types, line)
		}
	}
	return types, sc.Err()
}

// servedTypes maps every type name in internal/service/*/service_package_gen.go to its package.
func servedTypes(src string) (map[string]string, map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(src, "internal", "service", "*", "service_package_gen.go"))
	if err != nil {
		return nil, nil, err
	}
	typeToPkg := map[string]string{}
	pkgTypes := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		pkg := filepath.Base(filepath.Dir(f))
		for _, m := range typeNameRE.FindAllSubmatch(b, -1) {
			t := string(m[1])
			if _, dup := typeToPkg[t]; !dup {
				pkgTypes[pkg] = append(pkgTypes[pkg], t)
			}
			typeToPkg[t] = pkg
		}
	}
	if len(typeToPkg) == 0 {
		return nil, nil, fmt.Errorf("no service_package_gen.go under %s/internal/service", src)
	}
	return typeToPkg, pkgTypes, nil
}

// clientAccessors maps each conns.AWSClient accessor (EC2Client) to the service package directory
// whose client it builds (names.EC2 = "ec2" → internal/service/ec2).
func clientAccessors(src string) (map[string]string, error) {
	consts := map[string]string{}
	b, err := os.ReadFile(filepath.Join(src, "names", "consts_gen.go"))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m := constRE.FindStringSubmatch(line); m != nil {
			consts[m[1]] = m[2]
		}
	}
	file, _, err := parseFile(filepath.Join(src, "internal", "conns", "awsclient_gen.go"))
	if err != nil {
		return nil, err
	}
	accessors := map[string]string{}
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || !strings.HasSuffix(fn.Name.Name, "Client") {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "names" {
					if dir, ok := consts[sel.Sel.Name]; ok {
						accessors[fn.Name.Name] = dir
					}
				}
			}
			return true
		})
		if _, ok := accessors[fn.Name.Name]; !ok {
			return nil, fmt.Errorf("cannot tell which service package %s builds its client from", fn.Name.Name)
		}
		if _, err := os.Stat(filepath.Join(src, "internal", "service", accessors[fn.Name.Name])); err != nil {
			return nil, fmt.Errorf("%s names service package %q, which has no directory", fn.Name.Name, accessors[fn.Name.Name])
		}
	}
	return accessors, nil
}

// referencedClients lists the accessor names called anywhere in the provider's own packages that the
// main package compiles now (generated accessor file excluded).
func referencedClients(src string) (map[string]bool, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if eq .Module.Path "`+module+`"}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{end}}{{end}}`, ".")
	cmd.Dir = src
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps: %w", err)
	}
	used := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, name := range fields[1:] {
			path := filepath.Join(fields[0], name)
			if strings.HasSuffix(path, filepath.Join("internal", "conns", "awsclient_gen.go")) {
				continue
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			for _, m := range clientCallRE.FindAllSubmatch(b, -1) {
				used[string(m[1])] = true
			}
		}
	}
	return used, nil
}

// writeServicePackages keeps only the kept packages' imports and registrations.
func writeServicePackages(src string, kept map[string]bool) error {
	path := filepath.Join(src, "internal", "provider", "sdkv2", "service_packages_gen.go")
	orig := path + ".orig"
	if _, err := os.Stat(orig); os.IsNotExist(err) {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(orig, b, 0o644); err != nil {
			return err
		}
	}
	b, err := os.ReadFile(orig)
	if err != nil {
		return err
	}
	importRE := regexp.MustCompile(`^\s*"` + regexp.QuoteMeta(module) + `/internal/service/([a-z0-9]+)"\s*$`)
	callRE := regexp.MustCompile(`^\s*([a-z0-9]+)\.ServicePackage\(ctx\),\s*$`)
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if m := importRE.FindStringSubmatch(line); m != nil && !kept[m[1]] {
			continue
		}
		if m := callRE.FindStringSubmatch(line); m != nil && !kept[m[1]] {
			continue
		}
		out.WriteString(line)
	}
	formatted, err := format.Source(out.Bytes())
	if err != nil {
		return fmt.Errorf("trimmed service_packages_gen.go does not parse: %w", err)
	}
	return os.WriteFile(path, formatted, 0o644)
}

// writeAccessors drops the accessors of packages not kept, then the imports nothing uses any more.
func writeAccessors(src string, kept map[string]bool, accessors map[string]string) error {
	path := filepath.Join(src, "internal", "conns", "awsclient_gen.go")
	file, fset, err := parseFile(path)
	if err != nil {
		return err
	}
	var decls []ast.Decl
	for _, d := range file.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil {
			if pkg, ok := accessors[fn.Name.Name]; ok && !kept[pkg] {
				continue
			}
		}
		decls = append(decls, d)
	}
	file.Decls = decls
	dropUnusedImports(file, func(p string) bool { return strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/") })
	file.Comments = nil // the accessors' comments would be left dangling
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, file); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// writeRegistrations keeps, in a package's service_package_gen.go, only the registrations (composite
// literals with a TypeName) of wanted types, then drops the imports nothing uses any more.
func writeRegistrations(src, pkg string, want map[string]bool) error {
	path := filepath.Join(src, "internal", "service", pkg, "service_package_gen.go")
	file, fset, err := parseFile(path)
	if err != nil {
		return err
	}
	ast.Inspect(file, func(n ast.Node) bool {
		list, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		var kept []ast.Expr
		for _, e := range list.Elts {
			if name, ok := typeNameOf(e); ok && !want[name] {
				continue
			}
			kept = append(kept, e)
		}
		list.Elts = kept
		return true
	})
	dropUnusedImports(file, func(string) bool { return true })
	file.Comments = nil
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, file); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// typeNameOf reads the TypeName of a registration literal ({Factory: ..., TypeName: "aws_x", ...}).
func typeNameOf(e ast.Expr) (string, bool) {
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = u.X
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return "", false
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "TypeName" {
			if v, ok := kv.Value.(*ast.BasicLit); ok && v.Kind == token.STRING {
				name, err := strconv.Unquote(v.Value)
				return name, err == nil
			}
		}
	}
	return "", false
}

// dropUnusedImports removes the imports (those `droppable` says may go) that no selector uses.
func dropUnusedImports(file *ast.File, droppable func(path string) bool) {
	used := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				used[x.Name] = true
			}
		}
		return true
	})
	for _, d := range file.Decls {
		gen, ok := d.(*ast.GenDecl)
		if !ok || gen.Tok != token.IMPORT {
			continue
		}
		var specs []ast.Spec
		for _, s := range gen.Specs {
			spec := s.(*ast.ImportSpec)
			p, _ := strconv.Unquote(spec.Path.Value)
			name := filepath.Base(p)
			if spec.Name != nil {
				name = spec.Name.Name
			}
			if name != "_" && name != "." && droppable(p) && !used[name] {
				continue
			}
			specs = append(specs, spec)
		}
		gen.Specs = specs
	}
}

func parseFile(path string) (*ast.File, *token.FileSet, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	return f, fset, err
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "aws-trim: "+format+"\n", args...)
	os.Exit(1)
}
