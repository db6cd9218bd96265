// Command pulumi-sdkgen writes the intune package's SDKs with Pulumi's own code generators (the Go packages of
// github.com/pulumi/pulumi/pkg/v3/codegen, at the CLI's version): `npm run sdk` runs it. Nothing it writes is
// edited by hand. Usage: pulumi-sdkgen <schema.json> <out dir> (writes <out>/nodejs, <out>/python, <out>/go).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-intune-remote-assistance (npm run sdk)"

func main() {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: pulumi-sdkgen <schema.json> <out dir>"))
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	generators := map[string]func(*schema.Package) (map[string][]byte, error){
		"nodejs": func(pkg *schema.Package) (map[string][]byte, error) {
			return nodejs.GeneratePackage(tool, pkg, nil, nil, false, nil)
		},
		"python": func(pkg *schema.Package) (map[string][]byte, error) {
			return python.GeneratePackage(tool, pkg, nil, nil)
		},
		"go": func(pkg *schema.Package) (map[string][]byte, error) {
			return gogen.GeneratePackage(tool, pkg, nil)
		},
	}
	for _, language := range []string{"nodejs", "python", "go"} {
		// Each generator records its own language's settings in the package: each gets a package of its own.
		pkg, err := bind(text)
		if err != nil {
			fail(err)
		}
		files, err := generators[language](pkg)
		if err != nil {
			fail(fmt.Errorf("%s: %w", language, err))
		}
		for path, content := range files {
			target := filepath.Join(os.Args[2], language, path)
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				fail(err)
			}
			if err := os.WriteFile(target, content, 0o644); err != nil {
				fail(err)
			}
		}
	}
}

func bind(text []byte) (*schema.Package, error) {
	var spec schema.PackageSpec
	if err := json.Unmarshal(text, &spec); err != nil {
		return nil, err
	}
	languages := map[string]schema.Language{
		"nodejs": nodejs.Importer,
		"python": python.Importer,
		"go":     gogen.Importer,
	}
	return schema.ImportSpec(spec, languages, schema.NewNullLoader(), schema.ValidationOptions{})
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-sdkgen: %v\n", err)
	os.Exit(1)
}
