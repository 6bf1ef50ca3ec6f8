package layout

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/tokenloom/tokenloom"

// root is the module's folder: the tests run in internal/testkit/layout.
const root = "../../.."

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

func goList(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// rel is a path of ours without the module's prefix.
func rel(path string) string { return strings.TrimPrefix(path, module+"/") }

var quoted = regexp.MustCompile("`([^`]+)`")

// rooms reads the table of docs/architecture.md: each package's allowed
// imports of ours.
func rooms(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cols) != 3 {
			t.Fatalf("architecture.md: a row of %d columns: %s", len(cols), line)
		}
		name := strings.Trim(strings.TrimSpace(cols[0]), "`")
		var allowed []string
		for _, m := range quoted.FindAllStringSubmatch(cols[2], -1) {
			allowed = append(allowed, m[1])
		}
		out[name] = allowed
	}
	return out
}

// TestArchitecture: every package is a room of docs/architecture.md, every
// room is a package, and a package imports of ours only what its room may.
func TestArchitecture(t *testing.T) {
	pkgs := goList(t)
	table := rooms(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		name := rel(p.ImportPath)
		seen[name] = true
		allowed, ok := table[name]
		if !ok {
			t.Errorf("package %s has no row in docs/architecture.md", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if !slices.Contains(allowed, rel(imp)) {
				t.Errorf("%s imports %s, which its row in docs/architecture.md does not allow", name, rel(imp))
			}
		}
	}
	for name := range table {
		if !seen[name] {
			t.Errorf("docs/architecture.md has a row for %s, which is no package", name)
		}
	}
}

// TestFileMaps: ui/doc.go names every file of ui, ui/widgets and ui/frame,
// and server.go's package comment every file of server.
func TestFileMaps(t *testing.T) {
	for _, m := range []struct {
		doc  string
		dirs []string
	}{
		{"ui/doc.go", []string{"ui", "ui/widgets", "ui/frame"}},
		{"server/server.go", []string{"server"}},
	} {
		b, err := os.ReadFile(filepath.Join(root, m.doc))
		if err != nil {
			t.Fatal(err)
		}
		comment := packageComment(string(b))
		for _, dir := range m.dirs {
			files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				base := filepath.Base(f)
				if m.doc == "server/server.go" && strings.HasSuffix(base, "_test.go") {
					continue // the server's comment maps its code
				}
				if !regexp.MustCompile(`\b` + regexp.QuoteMeta(base) + `\b`).MatchString(comment) {
					t.Errorf("%s does not name %s/%s", m.doc, dir, base)
				}
			}
		}
	}
}

// packageComment is the comment above the package clause of a Go file.
func packageComment(src string) string {
	i := strings.Index(src, "\npackage ")
	if strings.HasPrefix(src, "package ") {
		i = 0
	}
	if i < 0 {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(src[:i], "\n") {
		if strings.HasPrefix(l, "//") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// maxLines is the most lines a non-test file of the product's rooms may
// have: a longer one holds more than one concern.
const maxLines = 450

// TestFileSizes: no non-test Go file in ui/ (and its subfolders), server/,
// client/ or cmd/ is longer than maxLines.
func TestFileSizes(t *testing.T) {
	for _, dir := range []string{"ui", "server", "client", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if n := strings.Count(string(b), "\n"); n > maxLines {
				t.Errorf("%s has %d lines, more than %d", strings.TrimPrefix(path, root+"/"), n, maxLines)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
