package infra

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/ticket-watchdog/watchdog/internal/config"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

const repoRoot = ".."

var secretNameRE = regexp.MustCompile(`TOKEN|PASSWORD|SECRET|DATABASE_URL|WEBHOOK`)

// looksSecret reports names that must never be in a plain environment list.
func looksSecret(name string) bool {
	if v, ok := config.Lookup(name); ok && v.Secret {
		return true
	}
	return secretNameRE.MatchString(strings.ToUpper(name))
}

// ---- Terraform ----

func loadModule(t *testing.T) *Module {
	t.Helper()
	m, err := LoadTerraform(filepath.Join("terraform"))
	if err != nil {
		t.Fatalf("LoadTerraform: %v", err)
	}
	return m
}

func TestTerraformReferencesResolve(t *testing.T) {
	m := loadModule(t)
	refs := m.References()
	if len(refs) < 50 {
		t.Fatalf("found only %d references; the walker is missing expressions", len(refs))
	}
	for _, r := range m.Unresolved() {
		t.Errorf("%s: %s is referenced but not declared", r.Range, r)
	}
	used := map[string]bool{}
	for _, r := range refs {
		if r.Kind == "var" {
			used[r.Name] = true
		}
	}
	for name, v := range m.Variables {
		// A variable's own validation mentions it; count only uses elsewhere.
		n := 0
		for _, r := range refs {
			if r.Kind == "var" && r.Name == name && !(r.Range.Filename == v.Range.Filename && inVariableBlock(m, v, r.Range)) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("variable %q is declared but never used", name)
		}
	}
}

func inVariableBlock(m *Module, v *Variable, r hcl.Range) bool {
	for _, b := range m.variableBlocks {
		if b.Labels[0] == v.Name && b.Range().ContainsPos(r.Start) {
			return true
		}
	}
	return false
}

func TestTerraformVariablesDescribedAndValidated(t *testing.T) {
	m := loadModule(t)
	for _, name := range sortedKeys(m.Variables) {
		v := m.Variables[name]
		if strings.TrimSpace(v.Description) == "" {
			t.Errorf("%s: variable %q has no description", v.Range, name)
		}
		if v.Type == "" {
			t.Errorf("%s: variable %q has no type", v.Range, name)
		}
		// Booleans and free-form tag maps have nothing to validate.
		if v.Validations == 0 && v.Type != "bool" && !strings.HasPrefix(v.Type, "map(") {
			t.Errorf("%s: variable %q has no validation block", v.Range, name)
		}
	}
	for _, name := range []string{"slack_webhook_url"} {
		v := m.Variables[name]
		if v == nil || !v.Sensitive || !v.Ephemeral || v.Default != nil {
			t.Errorf("variable %s must exist, be sensitive and ephemeral, and have no default: %+v", name, v)
		}
	}
	dc := m.Variables["desired_count"]
	if dc == nil || dc.Default == nil {
		t.Fatal("desired_count variable with a default is missing")
	}
	def, diags := dc.Default.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("desired_count default: %v", diags)
	}
	if f, _ := def.AsBigFloat().Float64(); f < 1 {
		t.Errorf("desired_count default %v < 1", f)
	}
}

func TestTerraformContainerSecrets(t *testing.T) {
	m := loadModule(t)
	cds, err := m.ContainerDefinitions()
	if err != nil {
		t.Fatal(err)
	}
	if len(cds) == 0 {
		t.Fatal("no ECS container definitions found")
	}
	for _, cd := range cds {
		if _, ok := cd.Fields["environment"]; !ok {
			t.Errorf("%s %s: no environment list", cd.TaskDefinition, cd.Name)
		}
		for _, e := range cd.Environment {
			if looksSecret(e.Name) {
				t.Errorf("%s: %s is in the plain environment; it belongs in secrets", e.Range, e.Name)
			}
			if _, ok := config.Lookup(e.Name); !ok {
				t.Errorf("%s: environment sets %s, which watchdogd does not read (internal/config.Env)", e.Range, e.Name)
			}
		}
		if _, ok := cd.Fields["secrets"]; !ok {
			t.Fatalf("%s %s: no secrets list", cd.TaskDefinition, cd.Name)
		}
		got := map[string]NameRef{}
		for _, s := range cd.Secrets {
			got[s.Name] = s
			if _, ok := config.Lookup(s.Name); !ok {
				t.Errorf("%s: secret %s is not a variable watchdogd reads", s.Range, s.Name)
			}
			// valueFrom must be the ARN of a secret this module declares.
			st, ok := s.Expr.(*hclsyntax.ScopeTraversalExpr)
			if !ok {
				t.Errorf("%s: %s valueFrom %q is not a reference to a secret", s.Range, s.Name, s.Value)
				continue
			}
			path := TraversalString(st.Traversal)
			addr := strings.TrimSuffix(path, ".arn")
			if b, ok := m.Resources[addr]; !ok || b.Labels[0] != "aws_secretsmanager_secret" || addr == path {
				t.Errorf("%s: %s valueFrom %s is not the arn of a declared aws_secretsmanager_secret", s.Range, s.Name, path)
			}
		}
		for _, want := range []string{"DATABASE_URL", "SLACK_WEBHOOK_URL", "WATCHDOG_API_TOKEN"} {
			if _, ok := got[want]; !ok {
				t.Errorf("%s %s: secrets lack %s", cd.TaskDefinition, cd.Name, want)
			}
		}
		// Secrets must not be passed any other way either.
		for key, e := range cd.Fields {
			if key == "secrets" {
				continue
			}
			src := m.Source(e)
			if strings.Contains(src, "random_password") || strings.Contains(src, "var.slack_webhook_url") {
				t.Errorf("%s %s: field %s carries a secret value: %s", cd.TaskDefinition, cd.Name, key, src)
			}
		}
		hc, ok := cd.Fields["healthCheck"].(*hclsyntax.ObjectConsExpr)
		if !ok || !strings.Contains(m.Source(hc), `"healthcheck"`) {
			t.Errorf("%s %s: container healthCheck must run `watchdogd healthcheck`", cd.TaskDefinition, cd.Name)
		}
		lc := m.Source(cd.Fields["logConfiguration"])
		if !strings.Contains(lc, `"awslogs"`) || !strings.Contains(lc, "aws_cloudwatch_log_group.") {
			t.Errorf("%s %s: logs must go to the module's CloudWatch log group: %s", cd.TaskDefinition, cd.Name, lc)
		}
	}
}

// blocksOf returns a body's nested blocks of type typ, including the
// content of `dynamic "typ"` blocks.
func blocksOf(body *hclsyntax.Body, typ string) []*hclsyntax.Body {
	var out []*hclsyntax.Body
	for _, b := range body.Blocks {
		switch {
		case b.Type == typ:
			out = append(out, b.Body)
		case b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == typ:
			for _, c := range b.Body.Blocks {
				if c.Type == "content" {
					out = append(out, c.Body)
				}
			}
		}
	}
	return out
}

func attrSource(m *Module, body *hclsyntax.Body, name string) string {
	a, ok := body.Attributes[name]
	if !ok {
		return ""
	}
	return m.Source(m.Resolve(a.Expr))
}

func TestTerraformExecutionRoleLeastPrivilege(t *testing.T) {
	m := loadModule(t)
	td := m.Resources["aws_ecs_task_definition.api"]
	if td == nil {
		t.Fatal("aws_ecs_task_definition.api missing")
	}
	roleRef := attrSource(m, td.Body, "execution_role_arn")
	roleAddr := strings.TrimSuffix(roleRef, ".arn")
	if _, ok := m.Resources[roleAddr]; !ok {
		t.Fatalf("execution_role_arn %q is not a declared role", roleRef)
	}
	if _, ok := td.Body.Attributes["task_role_arn"]; ok {
		t.Log("task has a task role; check its permissions too")
	}
	// Every policy attached to the role.
	var docs []*hclsyntax.Block
	for _, addr := range sortedKeys(m.Resources) {
		b := m.Resources[addr]
		switch b.Labels[0] {
		case "aws_iam_role_policy_attachment":
			if strings.HasPrefix(attrSource(m, b.Body, "role"), roleAddr+".") {
				t.Errorf("%s attaches a managed policy to the execution role; use a scoped inline policy", addr)
			}
		case "aws_iam_role_policy":
			if !strings.HasPrefix(attrSource(m, b.Body, "role"), roleAddr+".") {
				continue
			}
			ref := strings.TrimSuffix(strings.TrimPrefix(attrSource(m, b.Body, "policy"), "data."), ".json")
			d, ok := m.Data[ref]
			if !ok {
				t.Fatalf("%s: policy %q is not a declared aws_iam_policy_document", addr, ref)
			}
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		t.Fatal("the execution role has no policy")
	}

	secretARNs := map[string]bool{}
	cds, err := m.ContainerDefinitions()
	if err != nil {
		t.Fatal(err)
	}
	for _, cd := range cds {
		for _, s := range cd.Secrets {
			secretARNs[s.Value] = true
		}
	}
	granted := map[string]bool{}
	for _, d := range docs {
		for _, st := range blocksOf(d.Body, "statement") {
			actions := attrSource(m, st, "actions")
			resources := m.Resolve(st.Attributes["resources"].Expr)
			if strings.Contains(actions, `"*"`) || strings.Contains(actions, `:*"`) {
				t.Errorf("%s: wildcard action %s", st.SrcRange, actions)
			}
			if strings.Contains(m.Source(resources), `"*"`) && actions != `["ecr:GetAuthorizationToken"]` {
				t.Errorf("%s: actions %s on every resource; only ecr:GetAuthorizationToken needs that", st.SrcRange, actions)
			}
			if strings.Contains(actions, "secretsmanager:") {
				if actions != `["secretsmanager:GetSecretValue"]` {
					t.Errorf("%s: secrets statement grants %s, want only GetSecretValue", st.SrcRange, actions)
				}
				items, err := m.listItems(resources)
				if err != nil {
					t.Fatalf("%s: secret resources: %v", st.SrcRange, err)
				}
				for _, it := range items {
					granted[m.Source(it)] = true
				}
			}
			if _, ok := st.Attributes["not_actions"]; ok {
				t.Errorf("%s: not_actions grants too much", st.SrcRange)
			}
		}
	}
	if len(granted) != len(secretARNs) {
		t.Errorf("GetSecretValue granted on %v, the container reads %v: they must be the same", sortedKeys(granted), sortedKeys(secretARNs))
	}
	for arn := range secretARNs {
		if !granted[arn] {
			t.Errorf("the execution role cannot read %s", arn)
		}
	}
}

func TestTerraformLoadBalancerAndLogs(t *testing.T) {
	m := loadModule(t)
	var tgs int
	for addr, b := range m.Resources {
		switch b.Labels[0] {
		case "aws_lb_target_group":
			tgs++
			hcs := blocksOf(b.Body, "health_check")
			if len(hcs) != 1 {
				t.Fatalf("%s: want one health_check block, have %d", addr, len(hcs))
			}
			if p, _ := StaticString(hcs[0].Attributes["path"].Expr); p != "/readyz" {
				t.Errorf("%s: health check path %q, want /readyz", addr, p)
			}
			if tt, _ := StaticString(b.Body.Attributes["target_type"].Expr); tt != "ip" {
				t.Errorf("%s: target_type %q, Fargate (awsvpc) needs ip", addr, tt)
			}
		case "aws_cloudwatch_log_group":
			a, ok := b.Body.Attributes["retention_in_days"]
			if !ok {
				t.Errorf("%s: no retention_in_days; logs would be kept forever", addr)
			} else if src := m.Source(a.Expr); src == "0" || src == "null" {
				t.Errorf("%s: retention_in_days = %s", addr, src)
			}
		}
	}
	if tgs == 0 {
		t.Error("no aws_lb_target_group")
	}
	svc := m.Resources["aws_ecs_service.api"]
	if svc == nil {
		t.Fatal("aws_ecs_service.api missing")
	}
	if got := attrSource(m, svc.Body, "desired_count"); got != "var.desired_count" {
		t.Errorf("desired_count = %s, want var.desired_count", got)
	}
	nc := blocksOf(svc.Body, "network_configuration")
	if len(nc) != 1 || attrSource(m, nc[0], "assign_public_ip") != "false" || attrSource(m, nc[0], "subnets") != "var.private_subnet_ids" {
		t.Errorf("service tasks must run in the private subnets without public IPs")
	}
	for _, name := range []string{"alb_dns_name", "cluster_name", "service_name"} {
		o, ok := m.Outputs[name]
		if !ok {
			t.Errorf("output %s missing", name)
			continue
		}
		if d, _ := StaticString(o.Body.Attributes["description"].Expr); d == "" {
			t.Errorf("output %s has no description", name)
		}
	}
}

func TestTerraformDatabaseAndNetwork(t *testing.T) {
	m := loadModule(t)
	var clusters int
	for addr, b := range m.Resources {
		switch b.Labels[0] {
		case "aws_rds_cluster":
			clusters++
			if e, _ := StaticString(b.Body.Attributes["engine"].Expr); e != "aurora-postgresql" {
				t.Errorf("%s: engine %q", addr, e)
			}
			if attrSource(m, b.Body, "storage_encrypted") != "true" {
				t.Errorf("%s: storage_encrypted must be true", addr)
			}
			if _, ok := b.Body.Attributes["master_password"]; ok {
				t.Errorf("%s: master_password is stored in state; use master_password_wo", addr)
			}
			sg := attrSource(m, b.Body, "db_subnet_group_name")
			sgb := m.Resources[strings.TrimSuffix(sg, ".name")]
			if sgb == nil || attrSource(m, sgb.Body, "subnet_ids") != "var.private_subnet_ids" {
				t.Errorf("%s: the DB subnet group must use the private subnets", addr)
			}
		case "aws_rds_cluster_instance", "aws_db_instance":
			if attrSource(m, b.Body, "publicly_accessible") != "false" {
				t.Errorf("%s: publicly_accessible must be false", addr)
			}
		case "aws_secretsmanager_secret_version":
			if _, ok := b.Body.Attributes["secret_string"]; ok {
				t.Errorf("%s: secret_string is stored in state; use secret_string_wo", addr)
			}
		case "aws_vpc_security_group_ingress_rule":
			target := attrSource(m, b.Body, "security_group_id")
			if target == "aws_security_group.alb.id" {
				continue
			}
			if _, ok := b.Body.Attributes["referenced_security_group_id"]; !ok {
				t.Errorf("%s: ingress to %s must come from a security group, not a CIDR", addr, target)
			}
		case "aws_security_group":
			if len(blocksOf(b.Body, "ingress"))+len(blocksOf(b.Body, "egress")) > 0 {
				t.Errorf("%s: inline rules; use aws_vpc_security_group_*_rule resources", addr)
			}
		}
	}
	if clusters != 1 {
		t.Errorf("%d aws_rds_cluster resources, want 1", clusters)
	}
	// The provider is pinned to the 5.x series.
	var pinned bool
	for _, tb := range m.Terraform {
		for _, rp := range blocksOf(tb.Body, "required_providers") {
			if a, ok := rp.Attributes["aws"]; ok && regexp.MustCompile(`version\s*=\s*"~> 5\.`).MatchString(m.Source(a.Expr)) {
				pinned = true
			}
		}
	}
	if !pinned {
		t.Error(`required_providers must pin hashicorp/aws with "~> 5.x"`)
	}
}

func TestTerraformExampleVarsAreDeclared(t *testing.T) {
	m := loadModule(t)
	p := hclparseFile(t, filepath.Join("terraform", "terraform.tfvars.example"))
	for name := range p.Attributes {
		if _, ok := m.Variables[name]; !ok {
			t.Errorf("terraform.tfvars.example sets %s, which is not a variable", name)
		}
	}
	for name, v := range m.Variables {
		if v.Default == nil && name != "slack_webhook_url" {
			if _, ok := p.Attributes[name]; !ok {
				t.Errorf("required variable %s is missing from terraform.tfvars.example", name)
			}
		}
	}
}

func hclparseFile(t *testing.T, path string) *hclsyntax.Body {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %s: %v", path, diags)
	}
	return f.Body.(*hclsyntax.Body)
}

// TestTerraformCLI runs `terraform fmt -check` and, when a local provider
// mirror is available (TF_PLUGIN_DIR, default /opt/tf-plugins), `terraform
// validate` on a copy of the module. It skips where terraform is absent.
func TestTerraformCLI(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not on PATH; the HCL checks above still ran")
	}
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join("terraform", "*.tf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cliConfig := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_DATA_DIR="+filepath.Join(dir, ".terraform"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("fmt", "-check", "-diff"); err != nil {
		t.Errorf("terraform fmt -check: %v\n%s", err, out)
	}
	plugins := os.Getenv("TF_PLUGIN_DIR")
	if plugins == "" {
		plugins = "/opt/tf-plugins"
	}
	if _, err := os.Stat(filepath.Join(plugins, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		t.Skipf("no AWS provider in %s; terraform validate not run", plugins)
	}
	if out, err := run("init", "-backend=false", "-input=false", "-plugin-dir="+plugins); err != nil {
		t.Skipf("terraform init with %s failed (provider version not mirrored?): %v\n%s", plugins, err, out)
	}
	if out, err := run("validate", "-no-color"); err != nil {
		t.Errorf("terraform validate: %v\n%s", err, out)
	}
}

// ---- Compose ----

func loadCompose(t *testing.T) *Compose {
	t.Helper()
	c, err := LoadCompose(filepath.Join(repoRoot, "docker-compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"postgres", "mockslack", "api"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("service %s missing", name)
		}
		if s.Healthcheck == nil || s.Healthcheck.Disable || len(s.Healthcheck.Test) < 2 {
			t.Errorf("service %s has no health check", name)
		}
	}
	pg := c.Services["postgres"]
	if pg.Image != "postgres:15" {
		t.Errorf("postgres image %q, want postgres:15", pg.Image)
	}
	if !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
		t.Errorf("postgres health check %q does not use pg_isready", pg.Healthcheck.Test)
	}
	var named bool
	for _, v := range pg.Volumes {
		src, _, _ := strings.Cut(v, ":")
		if _, ok := c.Volumes[src]; ok {
			named = true
		}
	}
	if !named {
		t.Errorf("postgres volumes %v use no declared named volume", pg.Volumes)
	}
	api := c.Services["api"]
	for dep, cond := range map[string]string{"postgres": "service_healthy", "mockslack": "service_healthy"} {
		if api.DependsOn[dep] != cond {
			t.Errorf("api depends_on %s = %q, want %s", dep, api.DependsOn[dep], cond)
		}
	}
	if !slices.Contains(api.Ports, "8000:8000") {
		t.Errorf("api ports %v lack 8000:8000", api.Ports)
	}
}

func TestComposeAPIEnvironment(t *testing.T) {
	c := loadCompose(t)
	api := c.Services["api"]
	// The values compose would use with no .env file.
	env := map[string]string{}
	for k, raw := range api.Environment {
		v, err := Interpolate(raw, nil)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		env[k] = v
		if _, ok := config.Lookup(k); !ok {
			t.Errorf("api sets %s, which watchdogd does not read (internal/config.Env)", k)
		}
	}
	for _, seed := range []string{"DATABASE_URL", "SLACK_WEBHOOK_URL", "SLA_CONFIG_PATH", "SCHEDULER_INTERVAL_MINUTES", "API_HOST", "API_PORT"} {
		if _, ok := env[seed]; !ok {
			t.Errorf("api does not set the seed's %s", seed)
		}
	}
	if env["API_PORT"] != "8000" {
		t.Errorf("API_PORT = %q", env["API_PORT"])
	}
	db, err := url.Parse(env["DATABASE_URL"])
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	if db.Scheme != "postgresql+psycopg" || db.Hostname() != "postgres" {
		t.Errorf("DATABASE_URL %s://%s: want the seed's postgresql+psycopg scheme and the postgres service", db.Scheme, db.Host)
	}
	pg := c.Services["postgres"].Environment
	user, _ := Interpolate(pg["POSTGRES_USER"], nil)
	dbName, _ := Interpolate(pg["POSTGRES_DB"], nil)
	if db.User.Username() != user || strings.TrimPrefix(db.Path, "/") != dbName {
		t.Errorf("DATABASE_URL user/db %s/%s do not match the postgres service's %s/%s", db.User.Username(), db.Path, user, dbName)
	}
	hook, err := url.Parse(env["SLACK_WEBHOOK_URL"])
	if err != nil {
		t.Fatalf("SLACK_WEBHOOK_URL: %v", err)
	}
	ms := c.Services["mockslack"].Environment
	_, msPort, _ := strings.Cut(ms["MOCKSLACK_ADDR"], ":")
	if hook.Hostname() != "mockslack" || hook.Port() != msPort || hook.Path != mockslack.WebhookPath {
		t.Errorf("SLACK_WEBHOOK_URL %s does not reach the mockslack service on :%s%s", hook, msPort, mockslack.WebhookPath)
	}
	// The config path is the file the image ships.
	df := loadDockerfile(t)
	var shipped bool
	for _, in := range df.Final().Find("COPY") {
		if strings.HasSuffix(in.Args, " "+env["SLA_CONFIG_PATH"]) {
			shipped = true
		}
	}
	if !shipped {
		t.Errorf("SLA_CONFIG_PATH %s is not a file the image copies in", env["SLA_CONFIG_PATH"])
	}
}

func TestComposeBuildTargetsExist(t *testing.T) {
	c := loadCompose(t)
	df := loadDockerfile(t)
	for _, name := range []string{"mockslack", "api"} {
		b := c.Services[name].Build
		if b == nil || b.Context != "." {
			t.Errorf("service %s is not built from the repository root", name)
			continue
		}
		if df.Stage(b.Target) == nil {
			t.Errorf("service %s builds target %q, which the Dockerfile lacks", name, b.Target)
		}
	}
	if got := c.Services["api"].Build.Target; got != df.Final().Name {
		t.Errorf("api builds %q but a plain docker build gives %q", got, df.Final().Name)
	}
	if got := strings.Join(c.Services["mockslack"].Healthcheck.Test, " "); !strings.Contains(got, "mockslack -healthcheck") {
		t.Errorf("mockslack health check %q does not use the binary's -healthcheck", got)
	}
}

func TestInfraComposeIncludesRoot(t *testing.T) {
	c, err := LoadCompose("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Include) != 1 {
		t.Fatalf("infra/compose.yaml includes %d files, want the root docker-compose.yaml", len(c.Include))
	}
	got, _ := filepath.Abs(c.Include[0].Path)
	want, _ := filepath.Abs(filepath.Join(repoRoot, "docker-compose.yaml"))
	if got != want {
		t.Errorf("infra/compose.yaml includes %s, want %s", got, want)
	}
}

func TestEnvLocal(t *testing.T) {
	pairs, err := ReadEnvFile(filepath.Join(repoRoot, "env.local"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pairs {
		name, value := p[0], p[1]
		seen[name] = true
		if strings.HasPrefix(name, "POSTGRES_") || strings.HasPrefix(name, "MOCKSLACK_") {
			continue // read by the compose file's other services
		}
		if _, ok := config.Lookup(name); !ok {
			t.Errorf("env.local sets %s, which watchdogd does not read", name)
		}
		if (name == "WATCHDOG_API_TOKEN" || name == "SLACK_BOT_TOKEN") && value != "" {
			t.Errorf("env.local ships a value for %s", name)
		}
	}
	for _, seed := range []string{"DATABASE_URL", "SLACK_WEBHOOK_URL", "SLA_CONFIG_PATH", "SCHEDULER_INTERVAL_MINUTES", "API_HOST", "API_PORT"} {
		if !seen[seed] {
			t.Errorf("env.local lacks the seed's %s", seed)
		}
	}
}

// ---- Dockerfile ----

func loadDockerfile(t *testing.T) *Dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ParseDockerfile(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDockerfileStages(t *testing.T) {
	d := loadDockerfile(t)
	build := d.Stage("build")
	if build == nil || !strings.HasPrefix(build.Base, "golang:1.26") {
		t.Fatalf("want a build stage FROM golang:1.26, have %+v", build)
	}
	final := d.Final()
	if final.Name != "runtime" {
		t.Errorf("final stage is %q, want runtime (what `docker build .` produces)", final.Name)
	}
	if d.Stage("mockslack") == nil {
		t.Error("no mockslack stage for the compose stack")
	}
	// Stages copy only from earlier stages.
	for i, s := range d.Stages {
		for _, in := range s.Find("COPY") {
			m := regexp.MustCompile(`--from=(\S+)`).FindStringSubmatch(in.Args)
			if m == nil {
				continue
			}
			if !slices.ContainsFunc(d.Stages[:i], func(e *Stage) bool { return e.Name == m[1] }) {
				t.Errorf("line %d: COPY --from=%s names no earlier stage", in.Line, m[1])
			}
		}
	}
	// The build is static, trimmed and cached, and builds both commands.
	runs := ""
	for _, in := range build.Instructions {
		if in.Cmd == "RUN" || in.Cmd == "ENV" {
			runs += in.Args + "\n"
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w`, "--mount=type=cache,target=/go/pkg/mod", "./cmd/watchdogd", "./cmd/mockslack"} {
		if !strings.Contains(runs, want) {
			t.Errorf("build stage lacks %q", want)
		}
	}
	for _, pkg := range regexp.MustCompile(`\./cmd/[a-z]+`).FindAllString(runs, -1) {
		if st, err := os.Stat(filepath.Join(repoRoot, pkg)); err != nil || !st.IsDir() {
			t.Errorf("the Dockerfile builds %s, which does not exist", pkg)
		}
	}
}

func TestDockerfileRuntime(t *testing.T) {
	d := loadDockerfile(t)
	for _, s := range []*Stage{d.Final(), d.Stage("mockslack")} {
		users := s.Find("USER")
		if len(users) == 0 {
			t.Errorf("stage %s sets no USER", s.Name)
			continue
		}
		user, _, _ := strings.Cut(users[len(users)-1].Args, ":")
		if user == "root" || user == "0" || user == "" {
			t.Errorf("stage %s runs as %q", s.Name, user)
		}
		hc := s.Find("HEALTHCHECK")
		if len(hc) != 1 || !strings.Contains(hc[0].Args, `CMD ["`) {
			t.Errorf("stage %s: want one exec-form HEALTHCHECK, have %v", s.Name, hc)
		}
	}
	final := d.Final()
	expose := final.Find("EXPOSE")
	if len(expose) != 1 || strings.Fields(expose[0].Args)[0] != "8000" {
		t.Errorf("runtime EXPOSE %v, want 8000", expose)
	}
	// The health check runs a binary the stage copies in.
	hc := final.Find("HEALTHCHECK")[0].Args
	bin := regexp.MustCompile(`CMD \["([^"]+)"`).FindStringSubmatch(hc)
	var copied bool
	for _, in := range final.Find("COPY") {
		if bin != nil && strings.HasSuffix(in.Args, " "+bin[1]) {
			copied = true
		}
	}
	if !copied {
		t.Errorf("HEALTHCHECK runs %v, which the runtime stage does not copy in", bin)
	}
	if !strings.Contains(hc, `"healthcheck"`) {
		t.Errorf("runtime HEALTHCHECK %q should run `watchdogd healthcheck` (GET /healthz)", hc)
	}
	var workdir, volume bool
	for _, in := range final.Instructions {
		workdir = workdir || (in.Cmd == "WORKDIR" && in.Args == "/data")
		volume = volume || (in.Cmd == "VOLUME" && strings.Contains(in.Args, "/data"))
	}
	if !workdir || !volume {
		t.Errorf("runtime stage needs WORKDIR /data and VOLUME /data for the SQLite file (workdir=%v volume=%v)", workdir, volume)
	}
	// Every ENV the runtime sets is a variable watchdogd reads.
	for _, in := range final.Find("ENV") {
		for _, kv := range strings.Fields(in.Args) {
			k, _, _ := strings.Cut(kv, "=")
			if _, ok := config.Lookup(k); !ok {
				t.Errorf("line %d: ENV %s is not a variable watchdogd reads", in.Line, k)
			}
			if looksSecret(k) {
				t.Errorf("line %d: ENV %s bakes a secret into the image", in.Line, k)
			}
		}
	}
	// The SLA file copied in exists.
	for _, in := range final.Find("COPY") {
		if strings.HasPrefix(in.Args, "--") {
			continue
		}
		src := strings.Fields(in.Args)[0]
		if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
			t.Errorf("line %d: COPY source %s: %v", in.Line, src, err)
		}
	}
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "!") {
			patterns = append(patterns, line)
		}
	}
	excluded := func(path string) bool {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, path); ok {
				return true
			}
		}
		return false
	}
	for _, p := range []string{".env", ".git", "watchdog.db"} {
		if !excluded(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "sla_config.yaml", "cmd", "internal"} {
		if excluded(p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
}
