package repocheck

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Limits on hand-written Go code: the file limit holds outside tests, the
// function limit everywhere (a long test is as hard to read as long code).
const (
	maxFileLines = 800
	maxFuncLines = 100
)

// exempt lists the directories whose code the limits leave alone: the load
// harness, whose measurement functions read best as one sequence.
var exempt = []string{"internal/bench", "cmd/watchdog-bench"}

// TestSourceShape fails on any non-test Go file over maxFileLines lines and
// any function, test functions included, over maxFuncLines lines, so that each file stays about one
// concept and each function readable. Generated files are skipped.
func TestSourceShape(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			for _, e := range exempt {
				if rel == e {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		isTest := strings.HasSuffix(path, "_test.go")
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if generated(src) {
			return nil
		}
		checked++
		if n := bytes.Count(src, []byte("\n")); n > maxFileLines && !isTest {
			t.Errorf("%s: %d lines; split it by concept (at most %d)", rel, n, maxFileLines)
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			fd, ok := n.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				return true
			}
			lines := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			if lines > maxFuncLines {
				t.Errorf("%s:%d: func %s is %d lines (at most %d)", rel, fset.Position(fd.Pos()).Line, funcName(fd), lines, maxFuncLines)
			}
			return false
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files under %s; is the walk rooted right?", checked, root)
	}
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// generated reports whether src carries Go's generated-code marker.
func generated(src []byte) bool {
	for _, line := range bytes.SplitN(src, []byte("\n"), 20) {
		if bytes.HasPrefix(line, []byte("// Code generated ")) && bytes.HasSuffix(bytes.TrimSpace(line), []byte("DO NOT EDIT.")) {
			return true
		}
	}
	return false
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && filepath.Base(dir) != "infra" {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestRootImportsNoImplementation keeps the root package a user's API: what
// it pulls in must not include a database driver, Slack, WebSocket, the
// deployment checks' HCL parser or the server's file watcher.
func TestRootImportsNoImplementation(t *testing.T) {
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{"database/sql", "github.com/lib/pq", "github.com/jmoiron/sqlx", "modernc.org/sqlite",
		"github.com/slack-go/slack", "github.com/coder/websocket", "github.com/hashicorp/hcl", "github.com/zclconf/go-cty",
		"github.com/fsnotify/fsnotify", "github.com/ticket-watchdog/watchdog/policywatch", "net/http"}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed %d packages; expected the root's dependencies", len(deps))
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("the root package depends on %s", d)
			}
		}
	}
}
