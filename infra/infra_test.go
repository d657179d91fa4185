package infra

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// These tests feed the readers deliberately broken files, so the deployment
// checks in deploy_test.go are known to catch what they claim to.

func writeModule(t *testing.T, src string) *Module {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadTerraform(dir)
	if err != nil {
		t.Fatalf("LoadTerraform: %v", err)
	}
	return m
}

func TestModuleFindsSecretInEnvironmentAndUndeclaredRefs(t *testing.T) {
	m := writeModule(t, `
variable "image" {
  description = "img"
  type        = string
}

locals {
  env = [
    { name = "LOG_LEVEL", value = "info" },
    { name = "DATABASE_URL", value = var.db_url },
  ]
}

resource "aws_secretsmanager_secret" "tok" {
  name = "tok"
}

resource "aws_ecs_task_definition" "x" {
  family = "x"
  container_definitions = jsonencode([
    {
      name        = "app"
      image       = var.image
      environment = local.env
      secrets     = concat([{ name = "WATCHDOG_API_TOKEN", valueFrom = aws_secretsmanager_secret.tok.arn }], local.more)
    },
  ])
  depends_on = [aws_iam_role.missing]
}

locals {
  more = []
}

output "o" {
  value = data.aws_caller_identity.me.account_id
}
`)
	cds, err := m.ContainerDefinitions()
	if err != nil {
		t.Fatal(err)
	}
	if len(cds) != 1 {
		t.Fatalf("%d containers, want 1", len(cds))
	}
	var envNames []string
	for _, e := range cds[0].Environment {
		envNames = append(envNames, e.Name)
	}
	if !slices.Equal(envNames, []string{"LOG_LEVEL", "DATABASE_URL"}) {
		t.Errorf("environment names %v", envNames)
	}
	if len(cds[0].Secrets) != 1 || cds[0].Secrets[0].Value != "aws_secretsmanager_secret.tok.arn" {
		t.Errorf("secrets %+v", cds[0].Secrets)
	}
	var unresolved []string
	for _, r := range m.Unresolved() {
		unresolved = append(unresolved, r.String())
	}
	slices.Sort(unresolved)
	want := []string{"aws_iam_role.missing", "data.aws_caller_identity.me", "var.db_url"}
	if !slices.Equal(unresolved, want) {
		t.Errorf("Unresolved = %v, want %v", unresolved, want)
	}
}

func TestModuleRejectsUncheckableContainerDefinitions(t *testing.T) {
	for name, src := range map[string]string{
		"heredoc": `resource "aws_ecs_task_definition" "x" {
  container_definitions = <<EOF
[{"name":"app","environment":[{"name":"DATABASE_URL","value":"postgres://u:p@h/d"}]}]
EOF
}`,
		"file": `resource "aws_ecs_task_definition" "x" {
  container_definitions = file("defs.json")
}`,
		"computed name": `resource "aws_ecs_task_definition" "x" {
  container_definitions = jsonencode([{ name = "a", environment = [{ name = var.n, value = "v" }] }])
}`,
	} {
		t.Run(name, func(t *testing.T) {
			m := writeModule(t, src)
			if _, err := m.ContainerDefinitions(); err == nil {
				t.Error("ContainerDefinitions accepted a definition it cannot check")
			}
		})
	}
}

func TestLoadTerraformErrors(t *testing.T) {
	if _, err := LoadTerraform(t.TempDir()); err == nil {
		t.Error("empty directory accepted")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.tf"), []byte(`variable "x" {`), 0o644)
	if _, err := LoadTerraform(dir); err == nil || !strings.Contains(err.Error(), "a.tf") {
		t.Errorf("syntax error: %v, want one naming a.tf", err)
	}
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.tf"), []byte("variable \"x\" {}\nvariable \"x\" {}\n"), 0o644)
	if _, err := LoadTerraform(dir); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate variable: %v", err)
	}
}

func TestParseDockerfile(t *testing.T) {
	src := `# syntax=docker/dockerfile:1
# escape=\
ARG GO=1.26
FROM --platform=$BUILDPLATFORM golang:${GO} AS Build
# a comment
RUN a && \
    # comment inside a continuation
    b
FROM scratch
COPY --from=build /x /x
USER 65532
`
	d, err := ParseDockerfile(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if d.Directives["syntax"] != "docker/dockerfile:1" || d.Args["GO"] != "1.26" {
		t.Errorf("directives %v args %v", d.Directives, d.Args)
	}
	if len(d.Stages) != 2 {
		t.Fatalf("%d stages", len(d.Stages))
	}
	b := d.Stage("build")
	if b == nil || b.Base != "golang:1.26" || b.Platform != "$BUILDPLATFORM" || b.Line != 4 {
		t.Fatalf("build stage %+v", b)
	}
	if len(b.Instructions) != 1 || b.Instructions[0].Args != "a &&      b" || b.Instructions[0].Line != 6 {
		t.Errorf("RUN = %+v", b.Instructions)
	}
	if f := d.Final(); f.Name != "" || len(f.Find("USER")) != 1 || f.Find("USER")[0].Args != "65532" {
		t.Errorf("final %+v", f)
	}

	for name, bad := range map[string]string{
		"no FROM":           "RUN x\n",
		"dangling":          "FROM a\nRUN x \\\n",
		"bad FROM":          "FROM a b c d\n",
		"duplicate stage":   "FROM a AS x\nFROM b AS x\n",
		"empty":             "",
		"only directives":   "# syntax=x\n",
		"instruction first": "COPY a b\nFROM x\n",
	} {
		if _, err := ParseDockerfile(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestInterpolate(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": ""}
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"plain", "plain", false},
		{"${SET}", "v", false},
		{"$SET/x", "v/x", false},
		{"${UNSET}", "", false},
		{"${UNSET:-d}", "d", false},
		{"${EMPTY:-d}", "d", false},
		{"${EMPTY-d}", "", false},
		{"${UNSET-d}", "d", false},
		{"${SET:-d}", "v", false},
		{"a$$b $${SET}", "a$b ${SET}", false},
		{"postgresql://${U:-w}:${P:-w}@h/${D:-w}?x=1", "postgresql://w:w@h/w?x=1", false},
		{"${UNSET:?must set}", "", true},
		{"${EMPTY:?must set}", "", true},
		{"${EMPTY?ok when empty}", "", false},
		{"${SET", "", true},
	}
	for _, tt := range tests {
		got, err := Interpolate(tt.in, env)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Interpolate(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestComposeForms(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(`
include: [other.yaml, {path: third.yaml}]
services:
  a:
    build: .
    environment: ["X=1", "Y"]
    depends_on: [b]
    healthcheck: {test: "curl -f localhost"}
  b:
    build: {context: ., target: t}
    environment: {Z: "2"}
    depends_on: {a: {condition: service_healthy}, c: {}}
`), 0o644)
	c, err := LoadCompose(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Include) != 2 || c.Include[0].Path != "other.yaml" || c.Include[1].Path != "third.yaml" {
		t.Errorf("include %+v", c.Include)
	}
	a, b := c.Services["a"], c.Services["b"]
	if a.Build.Context != "." || a.Environment["X"] != "1" || a.DependsOn["b"] != "service_started" {
		t.Errorf("a = %+v", a)
	}
	if _, ok := a.Environment["Y"]; !ok {
		t.Error("a list entry without = must still declare the variable")
	}
	if !slices.Equal(a.Healthcheck.Test, []string{"CMD-SHELL", "curl -f localhost"}) {
		t.Errorf("a healthcheck %v", a.Healthcheck.Test)
	}
	if b.Build.Target != "t" || b.Environment["Z"] != "2" || b.DependsOn["a"] != "service_healthy" || b.DependsOn["c"] != "service_started" {
		t.Errorf("b = %+v", b)
	}
	os.WriteFile(path, []byte("services:\n  a:\n    environment: {X: 1, X: 2}\n"), 0o644)
	if _, err := LoadCompose(path); err == nil {
		t.Error("duplicate environment key accepted")
	}
	if _, err := LoadCompose(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestReadEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	os.WriteFile(path, []byte("# c\n\nA=1\nexport B=\"two\"\nC=\n"), 0o644)
	got, err := ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]string{{"A", "1"}, {"B", "two"}, {"C", ""}}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	os.WriteFile(path, []byte("NOEQUALS\n"), 0o644)
	if _, err := ReadEnvFile(path); err == nil {
		t.Error("line without = accepted")
	}
}
