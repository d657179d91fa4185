package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeRow is the README's configuration table row for v.
func readmeRow(v EnvVar) string {
	def := "—"
	if v.Default != "" {
		def = "`" + v.Default + "`"
	}
	desc := v.Description
	if v.Secret {
		desc += " *Secret: never logged.*"
	}
	return "| `" + v.Name + "` | " + def + " | " + desc + " |"
}

// The README's configuration table is this list, row for row, in order.
func TestREADMETableMatchesEnv(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rowRE := regexp.MustCompile("^\\| `[A-Z][A-Z0-9_]*` \\|")
	var rows []string
	for _, l := range strings.Split(string(b), "\n") {
		if rowRE.MatchString(l) {
			rows = append(rows, l)
		}
	}
	var want []string
	for _, v := range Env {
		want = append(want, readmeRow(v))
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("README.md's configuration table is not internal/config.Env; its rows should be:\n%s", strings.Join(want, "\n"))
	}
}
